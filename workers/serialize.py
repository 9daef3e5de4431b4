"""The contract's JSON shapes for cases and messages (used by the CLI and the API)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Case, CaseEvent, InboundMessage, OutboundMessage, iso


def case_summary(case: Case) -> dict:
    return {
        "number": case.number,
        "status": case.status,
        "category": case.category,
        "subcategory": case.subcategory,
        "department": case.department,
        "urgency": case.urgency,
        "channel": case.channel,
        "reporter": case.reporter_phone,
        "area": case.area.code if case.area else None,
        "team": case.team.code if case.team else None,
        "created_at": iso(case.created_at),
        "ack_due_at": iso(case.ack_due_at),
        "due_at": iso(case.due_at),
        "overdue": case.overdue,
        "awaiting": case.awaiting,
        "rating": case.rating,
        "repeat_count": case.repeat_count,
        "reopen_count": case.reopen_count,
        "escalation_level": case.escalation_level,
    }


def outbound_dict(message: OutboundMessage, case_number: str | None = None) -> dict:
    return {
        "id": message.id,
        "to": message.to,
        "body": message.body,
        "status": message.status,
        "case": case_number,
        "kind": message.kind,
        "template": message.template,
        "error_code": message.error_code,
        "error": message.error or None,
        "created_at": iso(message.created_at),
    }


def case_detail(session: Session, case: Case) -> dict:
    data = case_summary(case)
    events = session.scalars(sa.select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)).all()
    outbound = session.scalars(sa.select(OutboundMessage).where(OutboundMessage.case_id == case.id).order_by(OutboundMessage.id)).all()
    inbound = session.scalars(sa.select(InboundMessage).where(InboundMessage.case_id == case.id).order_by(InboundMessage.id)).all()
    messages = [
        {"direction": "in", "id": m.id, "from": m.from_phone, "body": m.body, "channel": m.channel,
         "outcome": m.outcome, "at": iso(m.received_at)} for m in inbound
    ] + [
        {"direction": "out", "id": m.id, "to": m.to, "body": m.body, "kind": m.kind, "status": m.status,
         "at": iso(m.created_at)} for m in outbound
    ]
    messages.sort(key=lambda m: (m["at"] or "", m["direction"] == "out"))
    data.update(
        text=case.text,
        reporter_name=case.reporter_name,
        confidence=case.confidence,
        classification=case.classification,
        informed_teams=[ct.team.code for ct in case.informed],
        events=[{"type": e.type, "at": iso(e.at), "actor": e.actor, "note": e.note, "channel": e.channel} for e in events],
        messages=messages,
    )
    return data
