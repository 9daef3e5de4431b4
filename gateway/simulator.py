"""The console's phone simulator, a training tool: it sends as a phone only when that phone
belongs to a resident or team member of a training area (GRIDLINE_TRAINING_AREAS, with their
subtrees), through the simulator door (recorded as simulated, naming the user), and it shows
only the messages of cases the viewer may see."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import Case, InboundMessage, Member, OutboundMessage, Resident, Team
from workers import directory

from .access import Viewer
from .caseviews import visible

LIMIT = 30


def training_phone(session: Session, training_codes: tuple[str, ...], phone: str) -> bool:
    known = directory.current(session)
    roots = {a.id for a in known.areas.values() if a.code in training_codes}
    if not roots:
        return False
    areas = set(session.scalars(sa.select(Resident.area_id).where(Resident.phone == phone)))
    areas |= set(session.scalars(sa.select(Team.area_id).join(Member, Member.team_id == Team.id)
                                 .where(Member.phone == phone, Member.active.is_(True))))
    return any(roots & set(known.lineage(area_id)) for area_id in areas if area_id is not None)


def conversation(session: Session, viewer: Viewer, phone: str) -> list[dict]:
    """The phone's last messages both ways, without those of cases the viewer may not see."""
    inbound = session.scalars(sa.select(InboundMessage).where(InboundMessage.from_phone == phone)
                              .order_by(InboundMessage.id.desc()).limit(LIMIT)).all()
    outbound = session.scalars(sa.select(OutboundMessage).where(OutboundMessage.to == phone)
                               .order_by(OutboundMessage.id.desc()).limit(LIMIT)).all()
    case_ids = {m.case_id for m in [*inbound, *outbound] if m.case_id is not None}
    cases = session.scalars(sa.select(Case).where(Case.id.in_(case_ids))).all() if case_ids else []
    shown = {c.id for c in cases if visible(session, viewer, c)}

    def ok(message) -> bool:
        return message.case_id is None or message.case_id in shown

    return sorted(
        [{"dir": "in", "body": m.body, "at": m.received_at, "note": m.outcome or "处理中"} for m in inbound if ok(m)]
        + [{"dir": "out", "body": m.body, "at": m.created_at, "note": m.status} for m in outbound if ok(m)],
        key=lambda m: m["at"])
