"""The access audit: every view, list or export of a resident's case is recorded with who, how
and when (PIPL: a record of who processed personal information). Admins read it in the console
(/console/audit) and with `gridline audit`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import NUMBER_BASE, AccessRecord, iso

ACTION_WORDS = {"view": "查看", "list": "列表", "export": "导出", "erase": "删除请求", "anonymise": "到期匿名化"}


def record(session: Session, username: str, role: str, action: str, channel: str, case_ids: Iterable[int | None],
           address: str = "", detail: str = "") -> None:
    """One row per case (None: an action not tied to one case). The caller's unit of work commits."""
    session.add_all([AccessRecord(username=username[:64], role=role[:24], action=action, channel=channel,
                                  case_id=case_id, address=(address or "")[:64], detail=detail[:256])
                     for case_id in case_ids])


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    username: str
    role: str
    action: str
    channel: str
    case: str | None
    address: str
    detail: str

    def to_dict(self) -> dict:
        return {"at": iso(self.at), "user": self.username, "role": self.role, "action": self.action,
                "channel": self.channel, "case": self.case, "address": self.address, "detail": self.detail}


def query(session: Session, case_id: int | None = None, username: str | None = None, limit: int = 200) -> list[AuditRow]:
    stmt = sa.select(AccessRecord).order_by(AccessRecord.id.desc()).limit(limit)
    if case_id is not None:
        stmt = stmt.where(AccessRecord.case_id == case_id)
    if username:
        stmt = stmt.where(AccessRecord.username == username)
    return [AuditRow(r.at, r.username, r.role, r.action, r.channel,
                     str(NUMBER_BASE + r.case_id) if r.case_id is not None else None, r.address, r.detail)
            for r in session.scalars(stmt)]
