"""Working time on China's official calendar (pure apart from chinese_calendar's data).

Public holidays and make-up working days (调休) come from the maintained chinese_calendar
package; routing_rules.yaml may add official dates for years the package does not know yet.
A year known to neither is counted Monday to Friday, and `missing_years` says so, so that the
case trail and `gridline rules check` can name the gap: a deadline is never refused for it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import chinese_calendar


@dataclass
class WorkCalendar:
    day_start: time = time(8, 30)
    day_end: time = time(17, 30)
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    missing_years: set[int] = field(default_factory=set)

    def is_workday(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            if not self.knows_year(day.year):
                self.missing_years.add(day.year)
            return day.weekday() < 5

    def knows_year(self, year: int) -> bool:
        """Whether official data covers the year (the package, or dates in the rules)."""
        if any(d.year == year for d in self.holidays | self.workdays):
            return True
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
            return True
        except NotImplementedError:
            return False

    def _next_work_start(self, moment: datetime) -> datetime:
        """The moment itself if inside working hours, else the start of the next working period."""
        day = moment.date()
        if self.is_workday(day):
            if moment.time() < self.day_start:
                return datetime.combine(day, self.day_start, moment.tzinfo)
            if moment.time() < self.day_end:
                return moment
        day += timedelta(days=1)
        while not self.is_workday(day):
            day += timedelta(days=1)
        return datetime.combine(day, self.day_start, moment.tzinfo)

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        remaining = timedelta(hours=hours)
        moment = self._next_work_start(start)
        while True:
            end_of_day = datetime.combine(moment.date(), self.day_end, moment.tzinfo)
            if moment + remaining <= end_of_day:
                return moment + remaining
            remaining -= end_of_day - moment
            moment = self._next_work_start(end_of_day)

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The same clock time N working days later (counted from the next working period)."""
        moment = self._next_work_start(start)
        day = moment.date()
        for _ in range(days):
            day += timedelta(days=1)
            while not self.is_workday(day):
                day += timedelta(days=1)
        return datetime.combine(day, moment.timetz())
