"""Access and area scope as SQL clauses, so that every list, count and figure is filtered inside
the query (at any size), with the same rules as gateway.access:

- admin: every case; operator: every case but the confidential categories;
- supervisor: cases in their area's subtree (confidential ones included);
- member: cases their team handles or is informed of.

The area tree is walked by recursive CTEs (UNION, not UNION ALL: a cycle in imported data ends
the walk instead of looping), the same SQL on SQLite and PostgreSQL.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from models import Area, Case, CaseTeam, Team

from .access import CONFIDENTIAL, Viewer


def subtree(area_id, name: str = "subtree") -> sa.Select:
    """SELECT of the ids of an area (an id or a scalar subquery) and all areas below it."""
    top = sa.select(Area.id).where(Area.id == area_id).cte(name, recursive=True)
    child = aliased(Area)
    walk = top.union(sa.select(child.id).where(child.parent_id == top.c.id))
    return sa.select(walk.c.id)


def closure(name: str = "closure"):
    """CTE (descendant, ancestor, level): every area paired with itself and each area above it,
    with the ancestor's level; join it on descendant = a case's area to group by street, grid ..."""
    base = sa.select(Area.id.label("descendant"), Area.id.label("ancestor"), Area.parent_id.label("parent"),
                     Area.level.label("level")).cte(name, recursive=True)
    above = aliased(Area)
    return base.union(sa.select(base.c.descendant, above.id, above.parent_id, above.level)
                      .where(above.id == base.c.parent))


def area_id_of(code: str):
    return sa.select(Area.id).where(Area.code == code).scalar_subquery()


def in_area(column, code: str, name: str = "area_filter"):
    """`column` (an area id) lies in the subtree of the area with this code (none if no such area)."""
    return column.in_(subtree(area_id_of(code), name))


def visible(viewer: Viewer):
    """WHERE clause on Case: the cases this viewer may see."""
    if viewer.role == "admin":
        return sa.true()
    if viewer.role == "operator":
        return Case.category.not_in(CONFIDENTIAL)
    if viewer.role == "supervisor" and viewer.area_id is not None:
        return Case.area_id.in_(subtree(viewer.area_id, "viewer_subtree"))
    if viewer.role == "member" and viewer.team_id is not None:
        informed = sa.select(CaseTeam.id).where(CaseTeam.case_id == Case.id, CaseTeam.team_id == viewer.team_id)
        return sa.or_(Case.team_id == viewer.team_id, informed.exists())
    return sa.false()


def team_id_of(code: str):
    return sa.select(Team.id).where(Team.code == code).scalar_subquery()


def area_visible(viewer: Viewer, column):
    """WHERE clause on an area-keyed row (a work log): admins and operators see all, a supervisor
    their subtree, a member their team's area subtree."""
    if viewer.role in ("admin", "operator"):
        return sa.true()
    if viewer.role == "supervisor" and viewer.area_id is not None:
        return column.in_(subtree(viewer.area_id, "viewer_subtree"))
    if viewer.role == "member" and viewer.team_id is not None:
        team_area = sa.select(Team.area_id).where(Team.id == viewer.team_id).scalar_subquery()
        return column.in_(subtree(team_area, "viewer_subtree"))
    return sa.false()
