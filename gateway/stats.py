"""The figures a street is judged by, over any period, for any area subtree, by SQL aggregates.

The cohort is the cases received in the period (local days, both included) that the viewer may
see (gateway.scope), within the area asked for. Over that cohort:

- 办结率 closure_rate = closed / received, closed = resolved or closed (办结);
- 按期办结率 on_time_rate = resolved by the deadline / closed;
- 一次办结率 first_time_rate = closed without being returned, transferred, escalated or reopened / closed;
- 满意率 satisfaction_rate = (满意 + 基本满意) / rated, over residents' cases that were rated
  (no answer is not a rating; patrol and on-the-spot cases are never surveyed);
- 镇街以下办结率 local_rate = closed by a grid, community or street team / closed;
- 即办 share on_the_spot_rate = on-the-spot cases / received;
- average hours from receipt to acknowledgement and to resolution.
Rates are 0-1, or null when the denominator is 0. The same SQL runs on SQLite and PostgreSQL.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Case, CaseEvent, Member, Team, WorkLog, from_local
from workers import directory

from . import scope
from .access import Viewer

BY = ("street", "community", "grid", "team", "member", "department", "category")
AREA_LEVELS = ("street", "community", "grid")
DONE = ("resolved", "closed")
REHANDLING = ("returned", "transferred", "escalated", "reopened")
TOWN_OR_BELOW = ("grid_team", "community_station", "street_center")
RATED = ("satisfied", "basically_satisfied", "dissatisfied")
MAX_DAYS = 3700
DEPARTMENT_WORDS = {
    "housing_bureau": "住建局", "environment_bureau": "生态环境局", "transport_bureau": "交通运输局",
    "education_bureau": "教育局", "hrss_bureau": "人社局", "commerce_bureau": "商务局",
    "health_commission": "卫健委", "civil_affairs_bureau": "民政局",
}
# Figure keys in display order with their Chinese headers (console, CLI, xlsx).
HEADERS = {
    "received": "受理", "closed": "办结", "closure_rate": "办结率", "on_time": "按期办结", "on_time_rate": "按期办结率",
    "first_time": "一次办结", "first_time_rate": "一次办结率", "rated": "评价件", "satisfied": "满意及基本满意",
    "satisfaction_rate": "满意率", "locally": "镇街以下办结", "local_rate": "镇街以下办结率", "overdue": "超期",
    "patrol": "巡查上报", "on_the_spot": "即办", "on_the_spot_rate": "即办占比", "visits": "走访日志",
    "avg_ack_hours": "平均受理时长(小时)", "avg_resolve_hours": "平均办结时长(小时)",
}
MEMBER_HEADERS = {"acknowledged": "受理件"}
RATES = {"closure_rate": ("closed", "received"), "on_time_rate": ("on_time", "closed"),
         "first_time_rate": ("first_time", "closed"), "satisfaction_rate": ("satisfied", "rated"),
         "local_rate": ("locally", "closed"), "on_the_spot_rate": ("on_the_spot", "received")}
COUNTS = ("received", "closed", "on_time", "first_time", "rated", "satisfied", "locally", "overdue", "patrol",
          "on_the_spot")


class StatsError(ValueError):
    """A bad period, area or breakdown; str() says what, in Chinese."""

    status = 400


class OutOfScope(StatsError):
    status = 403


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included

    @property
    def start_utc(self) -> datetime:
        return from_local(datetime.combine(self.start, datetime.min.time()))

    @property
    def end_utc(self) -> datetime:
        return from_local(datetime.combine(self.end + timedelta(days=1), datetime.min.time()))

    def label(self) -> str:
        return f"{self.start.isoformat()} 至 {self.end.isoformat()}"


def this_month(today: date) -> Period:
    return Period(today.replace(day=1), today.replace(day=calendar.monthrange(today.year, today.month)[1]))


def parse_period(start: str | None, end: str | None, today: date) -> Period:
    """from/to as YYYY-MM-DD (local days, both included); default this month."""
    def day(value: str, name: str) -> date:
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise StatsError(f"{name} 应为日期 YYYY-MM-DD（收到 {value!r}）") from None

    start_day = day(start, "from") if start and start.strip() else None
    end_day = day(end, "to") if end and end.strip() else None
    if start_day is None and end_day is None:
        return this_month(today)
    if start_day is None:
        start_day = end_day.replace(day=1)
    if end_day is None:
        end_day = max(start_day, today)
    if start_day > end_day:
        raise StatsError(f"from（{start_day}）晚于 to（{end_day}）")
    if (end_day - start_day).days > MAX_DAYS:
        raise StatsError(f"统计区间最长 {MAX_DAYS} 天")
    return Period(start_day, end_day)


def _seconds(later, earlier, dialect: str):
    if dialect == "postgresql":
        return sa.extract("epoch", later - earlier)
    return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 86400.0


def _count_if(condition):
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def measures(dialect: str) -> list:
    done = Case.status.in_(DONE)
    # NOT IN a (hashed) set of the rehandled cases: one pass over their events, not a probe per case.
    rehandled = Case.id.in_(sa.select(CaseEvent.case_id).where(CaseEvent.type.in_(REHANDLING)))
    local_team = Case.team_id.in_(sa.select(Team.id).where(Team.kind.in_(TOWN_OR_BELOW)))
    resident = Case.source == "resident"
    return [
        sa.func.count(Case.id).label("received"),
        _count_if(done).label("closed"),
        _count_if(sa.and_(done, Case.resolved_at <= Case.due_at)).label("on_time"),
        _count_if(sa.and_(done, sa.not_(rehandled))).label("first_time"),
        _count_if(sa.and_(resident, Case.rating.in_(RATED))).label("rated"),
        _count_if(sa.and_(resident, Case.rating.in_(RATED[:2]))).label("satisfied"),
        _count_if(sa.and_(done, local_team)).label("locally"),
        _count_if(Case.overdue.is_(True)).label("overdue"),
        _count_if(Case.source == "patrol").label("patrol"),
        _count_if(Case.source == "on_the_spot").label("on_the_spot"),
        sa.func.avg(_seconds(Case.acknowledged_at, Case.created_at, dialect)).label("ack_seconds"),
        sa.func.avg(_seconds(Case.resolved_at, Case.created_at, dialect)).label("resolve_seconds"),
    ]


def figure(row) -> dict:
    """One figure object from an aggregate row (a mapping of the measures)."""
    out = {key: int(row.get(key) or 0) for key in COUNTS}
    for rate, (part, whole) in RATES.items():
        out[rate] = round(out[part] / out[whole], 4) if out[whole] else None
    for key, name in (("ack_seconds", "avg_ack_hours"), ("resolve_seconds", "avg_resolve_hours")):
        value = row.get(key)
        out[name] = round(float(value) / 3600, 2) if value is not None else None
    out["visits"] = int(row.get("visits") or 0)
    return out


class Figures:
    """Figures for one viewer, period and area (code or None: the viewer's whole scope)."""

    def __init__(self, session: Session, viewer: Viewer, period: Period, area: str | None = None,
                 labels: dict | None = None):
        self.session, self.viewer, self.period, self.area = session, viewer, period, area
        self.labels = labels or {}
        self.dialect = session.get_bind().dialect.name
        self.known = directory.current(session)
        self.parents = {a.parent_id for a in self.known.areas.values()}  # areas one can drill into
        self.area_ref = None
        if area:
            self.area_ref = next((a for a in self.known.areas.values() if a.code == area), None)
            if self.area_ref is None:
                raise StatsError(f"区域 {area} 不存在")
            if viewer.role == "supervisor" and viewer.area_id not in self.known.lineage(self.area_ref.id):
                raise OutOfScope(f"区域 {area} 不在您的管辖范围内")

    # -- queries -------------------------------------------------------------------------------
    def cohort(self, query: sa.Select) -> sa.Select:
        query = query.where(scope.visible(self.viewer), Case.created_at >= self.period.start_utc,
                            Case.created_at < self.period.end_utc)
        if self.area:
            query = query.where(scope.in_area(Case.area_id, self.area))
        return query

    def _visits(self, key=None) -> sa.Select:
        columns = ([key.label("key")] if key is not None else []) + [sa.func.count(WorkLog.id).label("visits")]
        query = sa.select(*columns).where(scope.area_visible(self.viewer, WorkLog.area_id),
                                          WorkLog.created_at >= self.period.start_utc,
                                          WorkLog.created_at < self.period.end_utc)
        if self.area:
            query = query.where(scope.in_area(WorkLog.area_id, self.area))
        return query.group_by(key) if key is not None else query

    def totals(self) -> dict:
        row = dict(self.session.execute(self.cohort(sa.select(*measures(self.dialect)))).mappings().one())
        row["visits"] = self.session.scalar(self._visits())
        return figure(row)

    def rows(self, by: str) -> list[dict]:
        if by == "member":
            return self._member_rows()
        query = sa.select(*measures(self.dialect)).select_from(Case)
        if by in AREA_LEVELS or by == "children":
            tree = scope.closure()
            if by == "children":
                parent = tree.c.parent == self.area_ref.id if self.area_ref else tree.c.parent.is_(None)
                query = query.outerjoin(tree, sa.and_(tree.c.descendant == Case.area_id, parent))
            else:
                query = query.outerjoin(tree, sa.and_(tree.c.descendant == Case.area_id, tree.c.level == by))
            key = tree.c.ancestor
        elif by == "team":
            key = Case.team_id
        elif by == "department":
            key = Case.department
        elif by == "category":
            key = Case.category
        else:
            raise StatsError(f"by 应为 {' / '.join(BY)} 之一（收到 {by!r}）")
        query = self.cohort(query.add_columns(key.label("key"))).group_by(key)
        found = {r["key"]: dict(r) for r in self.session.execute(query).mappings()}
        if by in AREA_LEVELS or by == "children":
            for key_, visits in self.session.execute(self._visits_by_area(by)):
                found.setdefault(key_, {"key": key_})["visits"] = visits
        return sorted((self._row(by, key_, r) for key_, r in found.items()),
                      key=lambda r: (r["key"] is None, -r["received"], r["name"]))

    def _visits_by_area(self, by: str) -> sa.Select:
        tree = scope.closure("visit_closure")
        if by == "children":
            parent = tree.c.parent == self.area_ref.id if self.area_ref else tree.c.parent.is_(None)
        else:
            parent = tree.c.level == by
        query = self._visits(tree.c.ancestor)
        return query.join(tree, sa.and_(tree.c.descendant == WorkLog.area_id, parent))

    def _member_rows(self) -> list[dict]:
        handler = sa.func.coalesce(Case.resolved_by_id, Case.acknowledged_by_id, Case.reporter_member_id)
        main = self.cohort(sa.select(handler.label("key"), *measures(self.dialect)).where(handler.is_not(None))).group_by(handler)
        found = {r["key"]: dict(r) for r in self.session.execute(main).mappings()}
        acknowledged = self.cohort(sa.select(Case.acknowledged_by_id, sa.func.count(Case.id))
                                   .where(Case.acknowledged_by_id.is_not(None))).group_by(Case.acknowledged_by_id)
        for key, count in self.session.execute(acknowledged):
            found.setdefault(key, {"key": key})["acknowledged"] = count
        visits = self._visits(WorkLog.member_id).where(WorkLog.member_id.is_not(None))
        for key, count in self.session.execute(visits):
            found.setdefault(key, {"key": key})["visits"] = count
        members = {m.id: m for m in self.session.execute(
            sa.select(Member.id, Member.name, Member.team_id).where(Member.id.in_(list(found))))} if found else {}
        rows = []
        for key, r in found.items():
            row = figure(r)
            member = members.get(key)
            team = self.known.teams.get(member.team_id) if member else None
            row.update(key=str(key), name=f"{member.name}（{team.name}）" if member and team else f"成员 #{key}",
                       acknowledged=int(r.get("acknowledged") or 0))
            rows.append(row)
        return sorted(rows, key=lambda r: (-(r["closed"] + r["patrol"] + r["visits"]), r["name"]))

    def _row(self, by: str, key, r: dict) -> dict:
        row = figure(r)
        if by in AREA_LEVELS or by == "children":
            area = self.known.areas.get(key)
            row.update(key=area.code if area else None, name=area.name if area else "未落到该层级",
                       level=area.level if area else None, drill=bool(area) and area.id in self.parents)
        elif by == "team":
            team = self.known.teams.get(key)
            row.update(key=team.code if team else None, name=team.name if team else "待分派")
        elif by == "department":
            row.update(key=key, name=DEPARTMENT_WORDS.get(key, key) if key else "无职能部门")
        else:
            row.update(key=key, name=self.labels.get(key, "待分类"))
        return row

    def report(self, by: str | None = None) -> dict:
        return {"from": self.period.start.isoformat(), "to": self.period.end.isoformat(), "area": self.area,
                "by": by, "totals": self.totals(), "rows": self.rows(by) if by else []}
