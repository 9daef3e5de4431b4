"""process_inbound: one stored inbound message -> case / recorded outcome -> SMS queued."""
from __future__ import annotations

import logging

import sqlalchemy as sa

from models import InboundMessage

from .. import runtime
from ..intake import Intake
from ..queues import INBOUND, job
from .outbound import send_outbound

log = logging.getLogger(__name__)


@job(INBOUND, timeout=60, retries=3)
def process_inbound(message_id: int) -> str:
    rt = runtime.get()
    with rt.db.session() as session:
        # Claim first: the UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite) for
        # the whole unit of work, so a duplicate job waits and then finds the message processed.
        # A worker killed mid-job leaves the message 'received' for a retry or the sweep.
        claimed = session.execute(
            sa.update(InboundMessage)
            .where(InboundMessage.id == message_id, InboundMessage.status == "received")
            .values(attempts=InboundMessage.attempts + 1)
        ).rowcount
        if not claimed:
            return "skipped: already processed or unknown"
        message = session.get(InboundMessage, message_id)
        intake = Intake(session, rt)
        intake.handle_inbound(message)
        outbound_ids = intake.notifier.pending_ids()
        outcome = message.outcome
    if outbound_ids:
        send_outbound.enqueue(rt.redis, outbound_ids)
    log.info("inbound processed id=%s outcome=%s sms=%d", message_id, outcome, len(outbound_ids))
    return outcome or ""
