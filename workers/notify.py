"""Queue outbound SMS inside the current unit of work. Rows are written with the case; the send
job runs after commit (commit, then enqueue)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Case, InboundMessage, OptOut, OutboundMessage

# Texts a phone that opted out still gets: the confirmation it asked for.
ALWAYS_SENT = {"opt_out"}


class Notifier:
    """Collects a unit of work's SMS; opt-outs are checked for all of them in one query when the
    unit of work hands its messages over (`pending_ids`)."""

    def __init__(self, session: Session, provider):
        self.session = session
        self.provider = provider
        self.queued: list[OutboundMessage] = []

    def send(self, to: str, template: str, params: dict, kind: str,
             case: Case | None = None, inbound: InboundMessage | None = None) -> OutboundMessage:
        message = OutboundMessage(
            to=to,
            template=template,
            params=params,
            body=self.provider.render(template, params),
            kind=kind,
            case_id=case.id if case is not None else None,
            inbound_id=inbound.id if inbound is not None else None,
            provider=self.provider.name,
            status="pending",
            error="",
            attempts=0,
        )
        self.session.add(message)
        self.queued.append(message)
        return message

    def pending_ids(self) -> list[int]:
        """Suppress messages to opted-out phones, write everything, return the ids to send."""
        phones = {m.to for m in self.queued if m.template not in ALWAYS_SENT}
        opted_out = set(self.session.scalars(sa.select(OptOut.phone).where(OptOut.phone.in_(phones)))) if phones else set()
        for message in self.queued:
            if message.to in opted_out and message.template not in ALWAYS_SENT:
                message.status, message.error = "suppressed", "已退订，不发送"
        self.session.flush()
        return [m.id for m in self.queued if m.status == "pending"]


def open_cases_of(session: Session, phone: str) -> list[Case]:
    from models import OPEN_STATUSES

    return list(session.scalars(
        sa.select(Case).where(Case.reporter_phone == phone, Case.status.in_(OPEN_STATUSES)).order_by(Case.id.desc())
    ))
