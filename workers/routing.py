"""Routing decisions (pure): which team handles a case and which are informed.

A team of a kind is found by walking up from the case's area to the nearest area that has a
team of that kind. Missing teams fall back to the triage kind (district command centre).
"""
from __future__ import annotations

from dataclasses import dataclass

from .policy import Policy

DEPARTMENT = "department"


@dataclass(frozen=True)
class TeamRef:
    id: int
    code: str
    name: str
    kind: str
    area_id: int


@dataclass(frozen=True)
class RoutingDecision:
    handler: TeamRef | None
    informed: tuple[TeamRef, ...]
    triage: bool  # the handler is the triage team (unclassified, unknown area, no team found)
    notes: tuple[str, ...] = ()


def nearest_team(kind: str, lineage: list[int], teams_by_area: dict[int, list[TeamRef]]) -> TeamRef | None:
    for area_id in lineage:
        for team in teams_by_area.get(area_id, ()):
            if team.kind == kind:
                return team
    return None


def route_case(
    category: str,
    department: str | None,
    urgency: str,
    lineage: list[int],
    teams_by_area: dict[int, list[TeamRef]],
    policy: Policy,
    area_known: bool = True,
) -> RoutingDecision:
    notes: list[str] = []
    triage_team = nearest_team(policy.triage_kind, lineage, teams_by_area)
    if not area_known:
        return RoutingDecision(triage_team, (), True, ("发送人未登记，所在区域未知",))
    route = policy.route(category)
    handler = nearest_team(route.handler, lineage, teams_by_area)
    triage = route.handler == policy.triage_kind
    for fallback in policy.fallbacks.get(route.handler, ()) if handler is None else ():
        handler = nearest_team(fallback, lineage, teams_by_area)
        if handler is not None:
            notes.append(f"无 {route.handler} 团队，由 {handler.name} 办理")
            break
    if handler is None:
        notes.append(f"未找到 {route.handler} 类型的团队，转指挥中心分派")
        handler, triage = triage_team, True
    kinds = list(route.inform) + (list(route.inform_if_urgent) if urgency == "urgent" else [])
    informed: list[TeamRef] = []
    for kind in kinds:
        kind = department if kind == DEPARTMENT else kind
        if not kind:
            continue
        team = nearest_team(kind, lineage, teams_by_area)
        if team is None:
            notes.append(f"未找到需知会的 {kind} 团队")
        elif team != handler and team not in informed:
            informed.append(team)
    return RoutingDecision(handler, tuple(informed), triage, tuple(notes))
