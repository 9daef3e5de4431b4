"""Case queries for the console and the API, with access applied to every row."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from models import ApiToken, Case, User, utcnow
from models.phones import mask
from workers import directory

from . import scope, search
from .access import Viewer, can_act, can_view, sees_phones

FILTERS = ("status", "category", "area", "team", "channel", "source", "overdue", "q")


def viewer_of(user: User) -> Viewer:
    return Viewer(user.role, user.team_id, user.area_id)


def visible(session: Session, viewer: Viewer, case: Case) -> bool:
    known = directory.current(session)
    teams = {case.team_id} | {ct.team_id for ct in case.informed}
    return can_view(viewer, case.category, case.area_id, teams, known.lineage)


def actionable(session: Session, viewer: Viewer, case: Case) -> bool:
    return can_act(viewer, case.team_id, case.area_id, directory.current(session).lineage)


def for_viewer(viewer: Viewer, case: Case, data: dict) -> dict:
    """A case's JSON (summary or detail) as this viewer may see it: phones masked unless their
    role needs them (access.sees_phones)."""
    if sees_phones(viewer, case.team_id):
        return data
    data = dict(data, reporter=mask(data["reporter"]) if data.get("reporter") else None)
    if "messages" in data:
        data["messages"] = [dict(m, **{k: mask(m[k]) for k in ("from", "to") if m.get(k)}) for m in data["messages"]]
    return data


@dataclass
class Page:
    cases: list  # the page's rows (cases, or work logs ...)
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def case_query(viewer: Viewer, filters: dict, dialect: str, period=None) -> sa.Select:
    """SELECT Case with the viewer's access, the filters and the period (received in it), all
    inside the query."""
    query = sa.select(Case).where(scope.visible(viewer))
    if filters.get("status"):
        query = query.where(Case.status == filters["status"])
    if filters.get("category"):
        query = query.where(sa.or_(Case.category == filters["category"], Case.subcategory == filters["category"]))
    if filters.get("channel"):
        query = query.where(Case.channel == filters["channel"])
    if filters.get("source"):
        query = query.where(Case.source == filters["source"])
    if filters.get("overdue") in ("1", "true", True):
        query = query.where(Case.overdue.is_(True))
    if filters.get("team"):
        query = query.where(Case.team_id == scope.team_id_of(filters["team"]))
    if filters.get("area"):
        query = query.where(scope.in_area(Case.area_id, filters["area"]))
    if period is not None:
        query = query.where(Case.created_at >= period.start_utc, Case.created_at < period.end_utc)
    if filters.get("q"):
        query = query.where(search.matches(filters["q"], dialect))
    return query


def paged(session: Session, query: sa.Select, order, page: int, per_page: int) -> Page:
    """One page of a query's rows and the count of all of them, both in SQL."""
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    page = max(1, page)
    rows = session.scalars(query.order_by(*order).offset((page - 1) * per_page).limit(per_page)).unique().all()
    return Page(list(rows), total, page, per_page)


def find_cases(session: Session, viewer: Viewer, filters: dict, page: int = 1, per_page: int = 50,
               period=None) -> Page:
    query = case_query(viewer, filters, session.get_bind().dialect.name, period)
    return paged(session, query.options(selectinload(Case.informed), selectinload(Case.area), selectinload(Case.team)),
                 (Case.id.desc(),), page, per_page)


def new_token(session: Session, user: User, name: str) -> str:
    token = "gl_" + secrets.token_urlsafe(32)
    session.add(ApiToken(token_hash=hashlib.sha256(token.encode()).hexdigest(), name=name, user_id=user.id))
    return token


def user_for_token(session: Session, token: str) -> User | None:
    row = session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hashlib.sha256(token.encode()).hexdigest()))
    if row is None:
        return None
    row.last_used_at = utcnow()
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None

