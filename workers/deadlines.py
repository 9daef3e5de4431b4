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
