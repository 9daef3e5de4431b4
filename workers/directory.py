"""A per-process read-only copy of the area tree and the teams, for routing and locating.

Base data changes rarely (imports); every inbound message needs the lineage of an area and
the teams along it. The copy is reloaded when older than MAX_AGE seconds, so an import takes
effect in the workers within that time (at once in the process that imported).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Area, Team

from .locate import AreaName
from .routing import TeamRef

MAX_AGE = 30.0


@dataclass(frozen=True)
class AreaRef:
    id: int
    code: str
    name: str
    level: str
    parent_id: int | None
    names: tuple[str, ...]


class Directory:
    def __init__(self, areas: list[AreaRef], teams: list[TeamRef]):
        self.areas = {a.id: a for a in areas}
        self.teams = {t.id: t for t in teams}
        self.teams_by_area: dict[int, list[TeamRef]] = {}
        for team in sorted(teams, key=lambda t: t.id):
            self.teams_by_area.setdefault(team.area_id, []).append(team)
        self._lineage: dict[int, list[int]] = {}
        self.roots = [a.id for a in areas if a.parent_id is None]
        self.area_names = [AreaName(a.id, name, len(self.lineage(a.id)) - 1) for a in areas for name in a.names]

    def lineage(self, area_id: int) -> list[int]:
        """The area, its parent, ... up to the root (cycle-safe)."""
        if area_id not in self._lineage:
            chain, node = [], self.areas.get(area_id)
            while node is not None and node.id not in chain:
                chain.append(node.id)
                node = self.areas.get(node.parent_id) if node.parent_id is not None else None
            self._lineage[area_id] = chain
        return self._lineage[area_id]


def load(session: Session) -> Directory:
    areas = [
        AreaRef(a.id, a.code, a.name, a.level, a.parent_id, tuple([a.name] + [x for x in a.aliases.split("|") if x]))
        for a in session.execute(sa.select(Area.id, Area.code, Area.name, Area.level, Area.parent_id, Area.aliases))
    ]
    teams = [TeamRef(t.id, t.code, t.name, t.kind, t.area_id)
             for t in session.execute(sa.select(Team.id, Team.code, Team.name, Team.kind, Team.area_id))]
    return Directory(areas, teams)


_cache: dict = {"at": 0.0, "directory": None, "url": None}


def current(session: Session, max_age: float = MAX_AGE) -> Directory:
    url = str(session.get_bind().url)
    if _cache["directory"] is None or _cache["url"] != url or time.monotonic() - _cache["at"] > max_age:
        _cache.update(directory=load(session), at=time.monotonic(), url=url)
    return _cache["directory"]


def invalidate() -> None:
    _cache["directory"] = None
