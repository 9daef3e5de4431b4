"""Queue outbound SMS inside the current unit of work. Rows are written with the case; the send
job runs after commit (commit, then enqueue)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Case, InboundMessage, OptOut, OutboundMessage, utcnow
from models.phones import is_mobile

from .reply_channel import choose

# Texts a phone that opted out still gets: the confirmation it asked for.
ALWAYS_SENT = {"opt_out"}
# Staff notices sent at most once per phone per case in one unit of work (one event).
ONCE_PER_EVENT = {"team_notice", "escalation", "reminder"}


class Notifier:
    """Collects a unit of work's SMS; opt-outs are checked for all of them in one query when the
    unit of work hands its messages over (`pending_ids`)."""

    def __init__(self, session: Session, provider, policy=None, now=None):
        self.session = session
        self.provider = provider
        self.policy = policy
        self.now = now or utcnow()
        self.queued: list[OutboundMessage] = []
        self._channels: dict[int, str | None] = {}  # case id -> the channel its reporter last used

    def send(self, to: str, template: str, params: dict, kind: str,
             case: Case | None = None, inbound: InboundMessage | None = None,
             proactive: bool = False, urgent: bool = False) -> OutboundMessage:
        """Queue one SMS. A proactive (not a direct reply), non-urgent SMS is held through quiet
        hours; status updates to a resident are capped per case per day. A person in two of the
        teams told about one event (handler and informed, old and new) gets one notice."""
        if kind in ONCE_PER_EVENT and case is not None:
            earlier = next((m for m in self.queued if m.to == to and m.case_id == case.id and m.kind == kind), None)
            if earlier is not None:
                return earlier
        message = OutboundMessage(
            to=to,
            template=template,
            params=params,
            body=self.provider.render(template, params),
            kind=kind,
            case_id=case.id if case is not None else None,
            inbound_id=inbound.id if inbound is not None else None,
            provider=choose(self.provider.name, self.provider.senders, to, inbound, case, self.session, self._channels),
            status="pending",
            error="",
            attempts=0,
        )
        if not is_mobile(to):
            message.status, message.error = "suppressed", "非手机号码，无法接收短信"
            self.session.add(message)
            return message
        if proactive and self.policy is not None:
            from .deadlines import end_of_quiet_hours, in_quiet_hours

            if kind == "status_update" and case is not None and self._over_cap(to, case):
                message.status, message.error = "suppressed", f"超过每日{self.policy.loop.max_status_per_day}条通知上限"
                self.session.add(message)
                return message
            if not urgent and in_quiet_hours(self.now, self.policy):
                message.status, message.next_attempt_at = "held", end_of_quiet_hours(self.now, self.policy)
        message.created_at = self.now
        self.session.add(message)
        self.queued.append(message)
        return message

    def _over_cap(self, to: str, case: Case) -> bool:
        from models.base import from_local, to_local

        local_midnight = from_local(to_local(self.now).replace(hour=0, minute=0, second=0, microsecond=0))
        sent_today = self.session.scalar(
            sa.select(sa.func.count()).select_from(OutboundMessage).where(
                OutboundMessage.case_id == case.id, OutboundMessage.to == to, OutboundMessage.kind == "status_update",
                OutboundMessage.status != "suppressed", OutboundMessage.created_at >= local_midnight))
        in_this_unit = sum(1 for m in self.queued if m.case_id == case.id and m.to == to and m.kind == "status_update")
        return sent_today + in_this_unit >= self.policy.loop.max_status_per_day

    def pending_ids(self) -> list[int]:
        """Suppress messages to opted-out phones, write everything, return the ids to send."""
        phones = {m.to for m in self.queued if m.template not in ALWAYS_SENT}
        opted_out = set(self.session.scalars(sa.select(OptOut.phone).where(OptOut.phone.in_(phones)))) if phones else set()
        for message in self.queued:
            if message.to in opted_out and message.template not in ALWAYS_SENT:
                message.status, message.error, message.next_attempt_at = "suppressed", "已退订，不发送", None
        self.session.flush()
        return [m.id for m in self.queued if m.status == "pending"]


def open_cases_of(session: Session, phone: str) -> list[Case]:
    from models import OPEN_STATUSES

    return list(session.scalars(
        sa.select(Case).where(Case.reporter_phone == phone, Case.status.in_(OPEN_STATUSES)).order_by(Case.id.desc())
    ))
