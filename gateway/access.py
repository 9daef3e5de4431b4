"""Who may see and work which case (pure, given the area tree).

- admin: everything; operator: every intake, but not confidential cases it does not handle;
- supervisor: cases in their area's subtree, confidential ones included (they are superiors);
- member: cases their team handles or is informed of.
Stability (维稳) and petition (信访) cases are confidential: only those who handle them (the
handling and informed teams) and their superiors (supervisors above, admins) see them.
"""
from __future__ import annotations

from dataclasses import dataclass

from workers.privacy import CONFIDENTIAL  # one list for access and refusals


@dataclass(frozen=True)
class Viewer:
    role: str
    team_id: int | None = None
    area_id: int | None = None


def can_view(viewer: Viewer, category: str, area_id: int | None, team_ids: set[int], lineage) -> bool:
    """lineage(area_id) -> the area and its ancestors; team_ids: handling + informed teams."""
    if viewer.role == "admin":
        return True
    if viewer.role == "member":
        return viewer.team_id is not None and viewer.team_id in team_ids
    if viewer.role == "supervisor":
        return viewer.area_id is not None and area_id is not None and viewer.area_id in lineage(area_id)
    if viewer.role == "operator":
        return category not in CONFIDENTIAL
    return False


def can_act(viewer: Viewer, handling_team_id: int | None, area_id: int | None, lineage) -> bool:
    if viewer.role in ("admin", "operator"):
        return True
    if viewer.role == "member":
        return viewer.team_id is not None and viewer.team_id == handling_team_id
    if viewer.role == "supervisor":
        return viewer.area_id is not None and area_id is not None and viewer.area_id in lineage(area_id)
    return False


def sees_phones(viewer: Viewer, handling_team_id: int | None) -> bool:
    """Whose API answers carry full phone numbers: those who call residents back (operators,
    admins) and the team handling the case. Supervisors and informed teams get them masked."""
    if viewer.role in ("admin", "operator"):
        return True
    return viewer.role == "member" and viewer.team_id is not None and viewer.team_id == handling_team_id

