"""Deadlines (pure): acknowledge-by and resolve-by for a case, in wall-clock or working time."""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from models.base import from_local, to_local

from .policy import Policy, Span, WorkingTime
from .workcal import WorkCalendar


@lru_cache(maxsize=8)
def calendar_for(working_time: WorkingTime) -> WorkCalendar:
    return WorkCalendar(working_time.start, working_time.end, working_time.holidays, working_time.workdays)


def add_span(start_utc: datetime, span: Span, calendar: WorkCalendar) -> datetime:
    """start (naive UTC) + span; working time is counted in Beijing time."""
    if not span.working:
        return start_utc + span.approx()
    local = to_local(start_utc)
    if span.unit == "wh":
        return from_local(calendar.add_working_hours(local, span.amount))
    return from_local(calendar.add_working_days(local, int(span.amount)))


def case_deadlines(opened_at: datetime, category: str, urgency: str, policy: Policy) -> tuple[datetime, datetime]:
    rule = policy.deadline(category, urgency)
    calendar = calendar_for(policy.working_time)
    return add_span(opened_at, rule.acknowledge, calendar), add_span(opened_at, rule.resolve, calendar)


def acknowledge_deadline(start: datetime, category: str, urgency: str, policy: Policy) -> datetime:
    return add_span(start, policy.deadline(category, urgency).acknowledge, calendar_for(policy.working_time))


def in_quiet_hours(moment_utc: datetime, policy: Policy) -> bool:
    local = to_local(moment_utc).time()
    start, end = policy.loop.quiet_start, policy.loop.quiet_end
    return local >= start or local < end if start > end else start <= local < end


def end_of_quiet_hours(moment_utc: datetime, policy: Policy) -> datetime:
    local = to_local(moment_utc)
    end = local.replace(hour=policy.loop.quiet_end.hour, minute=policy.loop.quiet_end.minute, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return from_local(end)


def needs_reminder(start: datetime, due: datetime | None, lead: timedelta) -> bool:
    """A reminder `lead` before a deadline only when that falls in the second half of the time
    given: an urgent case with 15 minutes to acknowledge gets no reminder a minute after the notice."""
    return due is not None and due - start >= 2 * lead


def skip_early_reminders(case, start: datetime, policy: Policy, ack: bool = True, resolve: bool = True) -> None:
    """Mark as already reminded the deadlines too short for a reminder (the sweep then skips them)."""
    lead = policy.loop.reminder_before
    if ack:
        case.ack_reminded_at = None if needs_reminder(start, case.ack_due_at, lead) else start
    if resolve:
        case.due_reminded_at = None if needs_reminder(start, case.due_at, lead) else start
