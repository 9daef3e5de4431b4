"""Find a known area named in free text (pure): "我住新河村" -> the 新河村 area.

The longest name wins; among equally long names, the deepest area. Names shorter than two
characters are ignored: they over-match.
"""
from __future__ import annotations

from dataclasses import dataclass

from classifier.normalize import normalize


@dataclass(frozen=True)
class AreaName:
    area_id: int
    name: str
    depth: int


def find_area(text: str, names: list[AreaName]) -> int | None:
    haystack = normalize(text)
    best: tuple[int, int] | None = None
    best_id = None
    for entry in names:
        name = normalize(entry.name)
        if len(name) < 2 or name not in haystack:
            continue
        rank = (len(name), entry.depth)
        if best is None or rank > best:
            best, best_id = rank, entry.area_id
    return best_id
