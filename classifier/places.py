"""Load YAML with safe_load and remember where every key and item stands in the file.

Validators report errors as `file:line path: message`, so a user can go straight to the place.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Problem:
    line: int | None
    path: str
    message: str

    def render(self, filename: str) -> str:
        where = f"{filename}:{self.line}" if self.line else filename
        return f"{where} {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class RulesError(Exception):
    """The rules file is invalid; `problems` lists every error with its place."""

    def __init__(self, filename: str, problems: list[Problem]):
        self.filename = filename
        self.problems = problems
        super().__init__("\n".join(p.render(filename) for p in problems))


class Places:
    """Maps a key path such as ('categories', 'stability', 'keywords') to its 1-based line."""

    def __init__(self, node: yaml.Node | None):
        self._lines: dict[tuple, int] = {}
        if node is not None:
            self._walk(node, ())

    def _walk(self, node: yaml.Node, path: tuple) -> None:
        self._lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = path + (key.value,)
                self._walk(value, child)
                self._lines[child] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._walk(item, path + (index,))

    def line(self, path: tuple) -> int | None:
        while path and path not in self._lines:
            path = path[:-1]
        return self._lines.get(path)


def load_yaml(source: str | Path) -> tuple[dict, Places, str]:
    """Return (data, places, filename); a syntax error becomes a RulesError with its line."""
    path = Path(source)
    filename = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesError(filename, [Problem(None, "", f"cannot read: {exc.strerror}")]) from exc
    except UnicodeDecodeError as exc:
        raise RulesError(filename, [Problem(None, "", "not UTF-8 text")]) from exc
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise RulesError(filename, [Problem(line, "", f"YAML syntax: {getattr(exc, 'problem', exc)}")]) from exc
    if not isinstance(data, dict):
        raise RulesError(filename, [Problem(1, "", "the file must be a mapping of sections")])
    return data, Places(node), filename


class Checker:
    """Collects problems while a validator walks the data."""

    def __init__(self, places: Places):
        self.places = places
        self.problems: list[Problem] = []

    def error(self, path: tuple, message: str) -> None:
        self.problems.append(Problem(self.places.line(path), ".".join(str(p) for p in path), message))

    def mapping(self, data, path: tuple, required: bool = True) -> dict:
        if data is None and not required:
            return {}
        if not isinstance(data, dict):
            self.error(path, "expected a mapping" if data is not None else "missing section")
            return {}
        return data

    def number(self, data, path: tuple, minimum: float | None = None) -> float | None:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.error(path, f"expected a number, got {data!r}")
            return None
        if minimum is not None and data < minimum:
            self.error(path, f"must be at least {minimum}, got {data}")
            return None
        return float(data)

    def text(self, data, path: tuple) -> str | None:
        if not isinstance(data, str) or not data.strip():
            self.error(path, f"expected non-empty text, got {data!r}")
            return None
        return data

    def text_list(self, data, path: tuple) -> list[str]:
        if data is None:
            return []
        if not isinstance(data, list):
            self.error(path, "expected a list of words")
            return []
        out = []
        for index, item in enumerate(data):
            if isinstance(item, (int, float)) and not isinstance(item, bool):
                item = str(item)
            if self.text(item, path + (index,)) is not None:
                out.append(item)
        return out
