"""sweep_deadlines: reminders before deadlines, escalation up the grid on a missed one, and
closing surveys nobody answered.

Idempotent and safe with two schedulers: every step first claims its case with a conditional
UPDATE (the row lock decides who does it), in a unit of work of its own.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa

from models import Case
from models.case import OPEN_STATUSES

from .. import runtime, shutdown
from ..casework import SYSTEM, CaseWork
from ..handoff import unit_of_work
from ..lifecycle import IllegalStep
from ..notify import Notifier
from ..queues import SWEEPS, job
from ..texts import local_time

log = logging.getLogger(__name__)
NOT_ACKNOWLEDGED = ("triage", "assigned", "returned")


def _each(rt, now, ids: list[int], claim, act) -> int:
    done = 0
    for case_id in ids:
        if shutdown.requested():  # the next sweep takes the rest
            break
        with unit_of_work(rt) as uow:
            session = uow.session
            if not session.execute(claim(case_id)).rowcount:
                continue
            notifier = Notifier(session, rt.provider, rt.policy, now)
            work = CaseWork(session, rt, notifier, now)
            case = session.get(Case, case_id)
            act(work, case)
            uow.send(notifier.pending_ids())
        done += 1
    return done


@job(SWEEPS, timeout=300, retries=0)
def sweep_deadlines(now=None) -> dict:
    rt = runtime.get()
    now = now or rt.now()
    lead = rt.policy.loop.reminder_before
    counts = {}
    with rt.db.session() as session:
        def ids(*where):
            return list(session.scalars(sa.select(Case.id).where(*where).order_by(Case.id).limit(500)))

        ack_soon = ids(Case.status.in_(NOT_ACKNOWLEDGED), Case.ack_reminded_at.is_(None),
                       Case.ack_due_at > now, Case.ack_due_at <= now + lead)
        due_soon = ids(Case.status.in_(OPEN_STATUSES), Case.due_reminded_at.is_(None),
                       Case.due_at > now, Case.due_at <= now + lead)
        ack_missed = ids(Case.status.in_(NOT_ACKNOWLEDGED), Case.ack_escalated_at.is_(None), Case.ack_due_at <= now)
        due_missed = ids(Case.status.in_(OPEN_STATUSES), Case.due_escalated_at.is_(None), Case.due_at <= now)
        unanswered = ids(Case.status == "resolved", Case.awaiting == "rating", Case.contact != "phone",  # phone: 回访 queue
                         Case.survey_sent_at <= now - rt.policy.loop.survey_timeout)

    def claim(column, *where):
        return lambda case_id: (sa.update(Case).where(Case.id == case_id, column.is_(None), *where)
                                .values({column.key: now}))

    def remind(what, due_attr):
        def act(work: CaseWork, case: Case):
            params = work.params(case, deadline=local_time(getattr(case, due_attr)), what=what)
            work.tell_team(case.team_id, "reminder", params, "reminder", case, urgent=case.urgency == "urgent")
            work.record(case, "reminded", SYSTEM, f"提醒{what}时限 {local_time(getattr(case, due_attr))}")
        return act

    def escalate(reason, reset_ack: bool):
        def act(work: CaseWork, case: Case):
            case.overdue = True
            work.record(case, "overdue", SYSTEM, reason)
            try:
                work.escalate(case, SYSTEM, reason, overdue=True)
            except IllegalStep as exc:
                work.record(case, "escalation_failed", SYSTEM, str(exc))
                return
            if reset_ack:  # the team above gets its own acknowledge-by; missing it escalates again
                case.ack_escalated_at = None
        return act

    def close_unanswered(work: CaseWork, case: Case):
        work.close(case, SYSTEM, "no_response")

    counts["ack_reminders"] = _each(rt, now, ack_soon, claim(Case.ack_reminded_at, Case.ack_due_at > now), remind("受理", "ack_due_at"))
    counts["due_reminders"] = _each(rt, now, due_soon, claim(Case.due_reminded_at, Case.due_at > now), remind("办结", "due_at"))
    counts["ack_escalations"] = _each(rt, now, ack_missed, claim(Case.ack_escalated_at, Case.ack_due_at <= now,
                                                                 Case.status.in_(NOT_ACKNOWLEDGED)),
                                      escalate("超过受理时限未受理", reset_ack=True))
    counts["due_escalations"] = _each(rt, now, due_missed, claim(Case.due_escalated_at, Case.due_at <= now,
                                                                 Case.status.in_(OPEN_STATUSES)),
                                      escalate("超过办结时限未办结", reset_ack=False))
    counts["surveys_closed"] = _each(
        rt, now, unanswered,
        lambda case_id: sa.update(Case).where(Case.id == case_id, Case.status == "resolved", Case.awaiting == "rating")
        .values(awaiting="closing"),
        close_unanswered)
    if any(counts.values()):
        log.info("deadline sweep %s", " ".join(f"{k}={v}" for k, v in counts.items()))
    return counts
