"""Working time on China's official calendar (pure apart from the packages' data).

Public holidays and make-up working days (调休) come from the maintained chinese_calendar
package, which has each year once the State Council publishes it (up to 2026 today). For later
years the `holidays` package computes the statutory holidays (元旦, 春节, 清明, 劳动节, 端午,
中秋, 国庆, with their observed days), so the Spring Festival of 2027 is never a working day;
the make-up working Saturdays and Sundays are not computable and come from routing_rules.yaml
(`working_time.workdays`, with `holidays` for any extra days off) once published. A year whose
make-up days are known to neither is named in `missing_years`, so that the case trail and
`gridline rules check` can say so: a deadline is never refused for it.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import chinese_calendar
import holidays as holiday_data


@lru_cache(maxsize=16)
def statutory_holidays(year: int) -> dict[date, str]:
    """China's statutory days off in a year, with their Chinese names, from the holidays package."""
    return dict(holiday_data.China(years=year, language="zh_CN"))


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
            return day.weekday() < 5 and day not in statutory_holidays(day.year)

    def knows_year(self, year: int) -> bool:
        """Whether the official arrangement of the year, make-up days included, is known (the
        chinese_calendar package, or dates in the rules)."""
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

    def days_off(self, year: int) -> list[tuple[date, str]]:
        """The weekdays off and the weekend days worked in a year, as deadlines will count them:
        [(day, "春节"), (day, "调休上班"), ...], in date order."""
        out = []
        day, names = date(year, 1, 1), statutory_holidays(year)
        probe = replace(self, missing_years=set())  # listing a year is not counting a deadline in it
        while day.year == year:
            working = probe.is_workday(day)
            if day.weekday() < 5 and not working:
                out.append((day, names.get(day) or ("休息日" if day in self.holidays else "调休休息")))
            elif day.weekday() >= 5 and working:
                out.append((day, "调休上班"))
            day += timedelta(days=1)
        return out
