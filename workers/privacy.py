"""Residents' personal information (PIPL): retention and erasure.

Anonymising a case removes what identifies the resident or repeats their words (the reporter's
phone and name, the report's text, the texts of their SMS and calls, the SMS sent to them, the
resident's words in the trail) and keeps the figures: category, subcategory, area, team,
channel, status, rating, timestamps and counts. Closed cases are anonymised after
`privacy.retention_days` (env GRIDLINE_RETENTION_DAYS overrides; 0 or unset keeps them). A
deletion request (`gridline privacy erase --phone`) anonymises everything about one phone at once.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Mapping

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session

from models import Call, Case, CaseEvent, InboundMessage, Member, OptOut, OutboundMessage, Resident
from models.phones import mask

CONFIDENTIAL = ("stability", "petition")
REDACTED = "［已匿名化］"
RESIDENT_WORDS_EVENTS = ("received", "resident_message", "repeat")
PRIVATE_DATA_KEYS = ("text", "body", "phone", "from", "to", "reporter")
KEPT_CLASSIFICATION = ("category", "subcategory", "urgency", "confidence", "department")
UNSENT = ("pending", "held", "sending")


def _run(session: Session, statement) -> Any:
    """Execute a bulk UPDATE/DELETE; the result's rowcount is what changed."""
    return session.execute(statement)


def refusal_team_name(category: str, team_name: str | None) -> str:
    """The office named when someone is refused a case: never the one handling a confidential case."""
    if category in CONFIDENTIAL or not team_name:
        return "相关单位"
    return team_name


def configured_retention_days(rules_path: Path, env: Mapping[str, str] | None = None) -> int:
    """The rules file's `privacy: {retention_days: N}`, unless GRIDLINE_RETENTION_DAYS is set."""
    data = yaml.safe_load(Path(rules_path).read_text(encoding="utf-8")) or {}
    privacy = data.get("privacy") if isinstance(data, dict) else None
    return retention_days(privacy if isinstance(privacy, dict) else None, env)


def retention_days(rules_privacy: dict | None = None, env: Mapping[str, str] | None = None) -> int:
    """Days a closed case keeps its personal data; 0 means no limit. Env wins over the rules file."""
    env = os.environ if env is None else env
    raw = env.get("GRIDLINE_RETENTION_DAYS") or str((rules_privacy or {}).get("retention_days") or 0)
    if not raw.isascii() or not raw.isdigit():
        raise ValueError(f"GRIDLINE_RETENTION_DAYS: 应为非负整数（天），得到 {raw!r}")
    return int(raw)


@dataclass
class Changes:
    """What an anonymisation changed, table by table (printed by the CLI, kept in the audit)."""

    counts: dict[str, int] = field(default_factory=dict)
    case_ids: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, table: str, count: int) -> None:
        if count:
            self.counts[table] = self.counts.get(table, 0) + count

    def to_dict(self) -> dict[str, Any]:
        return {"changed": dict(self.counts), "cases": [str(100000 + i) for i in self.case_ids], "notes": self.notes}


def _redact_inbound(session: Session, changes: Changes, where) -> None:
    inbound_ids = list(session.scalars(sa.select(InboundMessage.id).where(where)))
    if inbound_ids:
        _run(session, sa.update(InboundMessage).where(InboundMessage.id.in_(inbound_ids))
                        .values(from_phone=None, from_raw="", body=REDACTED, params={}))
        changes.add("inbound_messages", len(inbound_ids))
        changes.add("calls", _run(session,
            sa.update(Call).where(Call.inbound_id.in_(inbound_ids))
            .values(from_phone=None, from_raw="", transcript=REDACTED, recording_url=None)).rowcount)


def _redact_outbound(session: Session, changes: Changes, words, to_resident) -> None:
    """words: SMS whose bodies go (they quote or answer the resident); to_resident: SMS to the
    resident's phone, whose number goes too and which are not sent any more."""
    changes.add("outbound_suppressed", _run(session,
        sa.update(OutboundMessage).where(to_resident, OutboundMessage.status.in_(UNSENT))
        .values(status="suppressed", error="按隐私规则匿名化，不再发送")).rowcount)
    changes.add("outbound_messages", _run(session,
        sa.update(OutboundMessage).where(sa.or_(words, to_resident), OutboundMessage.body != REDACTED)
        .values(body=REDACTED, params={})).rowcount)
    _run(session, sa.update(OutboundMessage).where(to_resident).values(to=""))


def anonymise_cases(session: Session, cases: list[Case], now: datetime) -> Changes:
    changes = Changes()
    for case in cases:
        phone = case.reporter_phone
        case.reporter_phone, case.reporter_name, case.resident_id = None, "", None
        case.text = REDACTED
        case.classification = {k: v for k, v in (case.classification or {}).items() if k in KEPT_CLASSIFICATION}
        case.anonymised_at = now
        changes.case_ids.append(case.id)
        for event in session.scalars(sa.select(CaseEvent).where(CaseEvent.case_id == case.id)):
            data = {k: v for k, v in (event.data or {}).items() if k not in PRIVATE_DATA_KEYS}
            words = event.type in RESIDENT_WORDS_EVENTS
            if words or data != (event.data or {}) or event.actor.startswith("居民 "):
                event.note = REDACTED if words else event.note
                event.data = data
                event.actor = "居民" if event.actor.startswith("居民 ") else event.actor
                changes.add("case_events", 1)
        _redact_inbound(session, changes, InboundMessage.case_id == case.id)
        _redact_outbound(session, changes, OutboundMessage.case_id == case.id,
                         sa.and_(OutboundMessage.case_id == case.id, OutboundMessage.to == (phone or "")))
    changes.add("cases", len(cases))
    return changes


def retention_sweep(session: Session, days: int, now: datetime, limit: int = 500) -> Changes:
    """Anonymise closed cases closed more than `days` ago (at most `limit` per call)."""
    if days <= 0:
        return Changes()
    cutoff = now - timedelta(days=days)
    due = list(session.scalars(sa.select(Case).where(
        Case.status == "closed", Case.anonymised_at.is_(None), Case.closed_at.is_not(None), Case.closed_at < cutoff)
        .order_by(Case.id).limit(limit).with_for_update(skip_locked=True)))
    return anonymise_cases(session, due, now)


def erase_phone(session: Session, phone: str, now: datetime) -> Changes:
    """A deletion request: anonymise every case, message and call of this phone and delete its
    resident row. Opt-outs stay (honouring the objection needs the number); staff rows are not
    touched (a member's phone is work data) but reported."""
    cases = list(session.scalars(sa.select(Case).where(Case.reporter_phone == phone).order_by(Case.id)))
    changes = anonymise_cases(session, cases, now)
    _redact_inbound(session, changes, InboundMessage.from_phone == phone)
    _redact_outbound(session, changes, sa.false(), OutboundMessage.to == phone)
    changes.add("calls", _run(session, sa.update(Call).where(Call.from_phone == phone)
                                         .values(from_phone=None, from_raw="", transcript=REDACTED,
                                                 recording_url=None)).rowcount)
    changes.add("residents", _run(session, sa.delete(Resident).where(Resident.phone == phone)).rowcount)
    if session.get(OptOut, phone) is not None:
        changes.notes.append(f"{mask(phone)} 的退订记录保留，以继续尊重其退订")
    if session.scalar(sa.select(sa.func.count()).select_from(Member).where(Member.phone == phone)):
        changes.notes.append(f"{mask(phone)} 也是网格团队成员，成员记录未改动（工作数据，停用请用成员导入）")
    return changes
