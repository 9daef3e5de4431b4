"""CSV imports of base data: areas, teams, members, residents.

Idempotent (upsert by code or phone), row by row: a bad row is rejected with its line number and
reason and nothing of it is stored; good rows are stored. Each row runs in a savepoint.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .area import Area
from .phones import InvalidPhone, to_e164
from .resident import Resident
from .team import ROLES, Member, Team

COLUMNS = {
    "areas": ("code", "name", "level", "parent_code"),
    "teams": ("code", "name", "kind", "area_code"),
    "members": ("phone", "name", "team_code", "role"),
    "residents": ("phone", "name", "area_code", "address"),
}
OPTIONAL_COLUMNS = {"areas": ("aliases",)}
MAX_FIELD = 256


@dataclass
class ImportReport:
    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "kind": self.kind, "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
            "rejected": [{"line": line, "reason": reason} for line, reason in self.rejected],
        }


class RowError(ValueError):
    pass


class FileError(ValueError):
    """The file as a whole cannot be read (encoding, header)."""


def read_rows(kind: str, source: str | Path | io.TextIOBase) -> list[tuple[int, dict]]:
    """(line number, row) pairs; the header must name every required column."""
    if isinstance(source, (str, Path)):
        try:
            text = Path(source).read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FileError("文件不是 UTF-8 编码（请在 Excel 中另存为“CSV UTF-8”）") from exc
    else:
        text = source.read()
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS[kind] if c not in header]
    if missing:
        raise FileError(f"表头缺少列: {', '.join(missing)}（需要 {','.join(COLUMNS[kind])}）")
    reader.fieldnames = header
    rows = []
    for row in reader:
        line = reader.line_num
        extra = row.pop(None, None)
        clean = {k: (v or "").strip() for k, v in row.items()}
        if extra:
            clean["__extra__"] = "1"
        rows.append((line, clean))
    return rows


def _has_control(value: str) -> bool:
    """NUL and other control characters: PostgreSQL refuses NUL in text, and staff cannot see them."""
    return any(ord(ch) < 32 and ch not in "\t\r\n" or ord(ch) == 127 for ch in value)


def _need(row: dict, name: str) -> str:
    value = row.get(name, "")
    if not value:
        raise RowError(f"{name} 为空")
    if len(value) > MAX_FIELD:
        raise RowError(f"{name} 超过 {MAX_FIELD} 个字符")
    return value


def _upsert(session: Session, existing, model, values: dict, report: ImportReport) -> None:
    if existing is None:
        session.add(model(**values))
        report.created += 1
        return
    changed = False
    for key, value in values.items():
        if getattr(existing, key) != value:
            setattr(existing, key, value)
            changed = True
    if changed:
        report.updated += 1
    else:
        report.unchanged += 1


def _area_row(session: Session, row: dict, report: ImportReport) -> None:
    code, name, level = _need(row, "code"), _need(row, "name"), _need(row, "level")
    if not level.replace("_", "").isalnum() or not level.isascii():
        raise RowError(f"level {level!r} 应为英文层级名，如 district, street, community, grid")
    parent = None
    if row.get("parent_code"):
        parent = Area.by_code(session, row["parent_code"])
        if parent is None:
            raise RowError(f"上级区域 {row['parent_code']!r} 不存在")
    existing = Area.by_code(session, code)
    if existing is not None and parent is not None and existing.id in {a.id for a in parent.lineage()}:
        raise RowError(f"上级区域 {parent.code!r} 会形成循环")
    aliases = "|".join(a.strip() for a in row.get("aliases", "").replace("，", "|").replace(",", "|").split("|") if a.strip())
    _upsert(session, existing, Area,
            {"code": code, "name": name, "level": level, "parent_id": parent.id if parent else None, "aliases": aliases},
            report)


def _team_row(session: Session, row: dict, report: ImportReport, kinds: Iterable[str]) -> None:
    code, name, kind = _need(row, "code"), _need(row, "name"), _need(row, "kind")
    if kind not in kinds:
        raise RowError(f"未知团队类型 {kind!r}")
    area = Area.by_code(session, _need(row, "area_code"))
    if area is None:
        raise RowError(f"区域 {row['area_code']!r} 不存在")
    existing = session.scalar(sa.select(Team).where(Team.code == code))
    _upsert(session, existing, Team, {"code": code, "name": name, "kind": kind, "area_id": area.id}, report)


def _phone(row: dict) -> str:
    try:
        return to_e164(_need(row, "phone"))
    except InvalidPhone as exc:
        raise RowError(f"phone: {exc}") from exc


def _member_row(session: Session, row: dict, report: ImportReport) -> None:
    phone, name, role = _phone(row), _need(row, "name"), _need(row, "role").lower()
    if role not in ROLES:
        raise RowError(f"role {role!r} 应为 {', '.join(ROLES)} 之一")
    team = session.scalar(sa.select(Team).where(Team.code == _need(row, "team_code")))
    if team is None:
        raise RowError(f"团队 {row['team_code']!r} 不存在")
    existing = session.scalar(sa.select(Member).where(Member.phone == phone, Member.team_id == team.id))
    _upsert(session, existing, Member, {"phone": phone, "name": name, "team_id": team.id, "role": role, "active": True}, report)


def _resident_row(session: Session, row: dict, report: ImportReport) -> None:
    phone = _phone(row)
    area = Area.by_code(session, _need(row, "area_code"))
    if area is None:
        raise RowError(f"区域 {row['area_code']!r} 不存在")
    name, address = row.get("name", ""), row.get("address", "")
    if len(name) > 64 or len(address) > MAX_FIELD:
        raise RowError("name 或 address 过长")
    existing = session.scalar(sa.select(Resident).where(Resident.phone == phone))
    _upsert(session, existing, Resident, {"phone": phone, "name": name, "area_id": area.id, "address": address}, report)


def import_rows(session: Session, kind: str, rows: list[tuple[int, dict]], team_kinds: Iterable[str] = ()) -> ImportReport:
    """Apply rows in order, each in its own savepoint. The caller commits."""
    if kind not in COLUMNS:
        raise ValueError(f"unknown import kind {kind!r}")
    handlers: dict[str, Callable] = {
        "areas": _area_row,
        "teams": lambda s, r, rep: _team_row(s, r, rep, set(team_kinds)),
        "members": _member_row,
        "residents": _resident_row,
    }
    handler = handlers[kind]
    report = ImportReport(kind)
    pending = list(rows)
    # Areas may name a parent defined further down the file: retry deferred rows until no progress.
    while pending:
        deferred = []
        for line, row in pending:
            if row.get("__extra__"):
                report.rejected.append((line, "列数多于表头"))
                continue
            bad = next((k for k, v in row.items() if _has_control(v)), None)
            if bad is not None:
                report.rejected.append((line, f"{bad} 含有不可见的控制字符（如 NUL），请检查原文件"))
                continue
            savepoint = session.begin_nested()
            try:
                handler(session, row, report)
                session.flush()
                savepoint.commit()
            except RowError as exc:
                savepoint.rollback()
                if kind == "areas" and "上级区域" in str(exc) and "不存在" in str(exc):
                    deferred.append((line, row, str(exc)))
                else:
                    report.rejected.append((line, str(exc)))
            except sa.exc.IntegrityError as exc:
                savepoint.rollback()
                report.rejected.append((line, f"数据冲突: {exc.orig}"))
        if len(deferred) == len(pending) or not deferred:
            report.rejected.extend((line, reason) for line, _row, reason in deferred)
            break
        pending = [(line, row) for line, row, _reason in deferred]
    report.rejected.sort()
    return report
