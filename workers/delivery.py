"""Delivery reports and status answers land on the outbound row they are about. Statuses never
move backwards (STATUS_RANK), and a report must name the phone the row was sent to."""
from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import STATUS_RANK, OutboundMessage, utcnow
from models.phones import try_e164

from .pushes import Report

log = logging.getLogger(__name__)


def find(session: Session, provider: str, report: Report) -> OutboundMessage | None:
    message = None
    if report.message_id is not None:
        message = session.get(OutboundMessage, report.message_id)
    if message is None and report.provider_sid:
        message = session.scalar(sa.select(OutboundMessage).where(OutboundMessage.provider_sid == report.provider_sid))
    if message is None or message.provider != provider:
        return None
    if report.phone and try_e164(report.phone) not in (None, message.to):
        log.warning("%s report for message %s names another phone: ignored", provider, message.id)
        return None
    return message


def apply(session: Session, provider: str, report: Report) -> bool:
    """True when the report moved the row forward."""
    message = find(session, provider, report)
    if message is None:
        log.info("%s report for no known message id=%s sid=%s", provider, report.message_id, report.provider_sid)
        return False
    if report.provider_sid and not message.provider_sid:
        message.provider_sid = report.provider_sid
    if STATUS_RANK.get(report.status, 0) <= STATUS_RANK.get(message.status, 0):
        return False
    message.status = report.status
    message.next_attempt_at = None
    if report.error_code or report.error:
        message.error_code, message.error = report.error_code, report.error
    message.updated_at = utcnow()
    return True
