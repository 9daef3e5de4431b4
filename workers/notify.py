"""Queue outbound SMS inside the current unit of work. Rows are written with the case; the send
job runs after commit (commit, then enqueue)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Case, InboundMessage, OptOut, OutboundMessage

# Texts a phone that opted out still gets: the confirmation it asked for.
ALWAYS_SENT = {"opt_out"}


class Notifier:
    def __init__(self, session: Session, provider):
        self.session = session
        self.provider = provider
        self.queued: list[OutboundMessage] = []
        self._opted_out: dict[str, bool] = {}

    def opted_out(self, phone: str) -> bool:
        if phone not in self._opted_out:
            self._opted_out[phone] = self.session.get(OptOut, phone) is not None
        return self._opted_out[phone]

    def forget(self, phone: str) -> None:
        self._opted_out.pop(phone, None)

    def send(self, to: str, template: str, params: dict, kind: str,
             case: Case | None = None, inbound: InboundMessage | None = None) -> OutboundMessage:
        suppressed = template not in ALWAYS_SENT and self.opted_out(to)
        message = OutboundMessage(
            to=to,
            template=template,
            params=params,
            body=self.provider.render(template, params),
            kind=kind,
            case_id=case.id if case is not None else None,
            inbound_id=inbound.id if inbound is not None else None,
            provider=self.provider.name,
            status="suppressed" if suppressed else "pending",
            error="已退订，不发送" if suppressed else "",
            attempts=0,
        )
        self.session.add(message)
        if not suppressed:
            self.queued.append(message)
        return message

    def pending_ids(self) -> list[int]:
        self.session.flush()
        return [m.id for m in self.queued]


def open_cases_of(session: Session, phone: str) -> list[Case]:
    from models import OPEN_STATUSES

    return list(session.scalars(
        sa.select(Case).where(Case.reporter_phone == phone, Case.status.in_(OPEN_STATUSES)).order_by(Case.id.desc())
    ))
