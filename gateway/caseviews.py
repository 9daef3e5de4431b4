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

from .access import Viewer, can_act, can_view, sees_phones

FILTERS = ("status", "category", "area", "team", "channel", "overdue", "q")


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
    cases: list[Case]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def find_cases(session: Session, viewer: Viewer, filters: dict, page: int = 1, per_page: int = 50) -> Page:
    query = sa.select(Case).options(selectinload(Case.informed), selectinload(Case.area), selectinload(Case.team))
    known = directory.current(session)
    if filters.get("status"):
        query = query.where(Case.status == filters["status"])
    if filters.get("category"):
        query = query.where(sa.or_(Case.category == filters["category"], Case.subcategory == filters["category"]))
    if filters.get("channel"):
        query = query.where(Case.channel == filters["channel"])
    if filters.get("overdue") in ("1", "true", True):
        query = query.where(Case.overdue.is_(True))
    if filters.get("team"):
        team = next((t for t in known.teams.values() if t.code == filters["team"]), None)
        query = query.where(Case.team_id == (team.id if team else -1))
    if filters.get("area"):
        area = next((a for a in known.areas.values() if a.code == filters["area"]), None)
        inside = [a.id for a in known.areas.values() if area and area.id in known.lineage(a.id)]
        query = query.where(Case.area_id.in_(inside or [-1]))
    if filters.get("q"):
        needle = f"%{filters['q']}%"
        number = Case.id_from_number(filters["q"])
        query = query.where(sa.or_(Case.text.like(needle), Case.id == (number or -1)))
    rows = [c for c in session.scalars(query.order_by(Case.id.desc()).limit(5000)).unique() if visible(session, viewer, c)]
    page = max(1, page)
    return Page(rows[(page - 1) * per_page: page * per_page], len(rows), page, per_page)


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

