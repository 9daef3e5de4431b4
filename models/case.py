"""Cases: one resident matter from intake to closure, with its handling and informed teams."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from .area import Area
from .base import Base, enum, utcnow
from .search import index_text
from .team import Team

STATUSES = ("triage", "assigned", "acknowledged", "in_progress", "resolved", "closed", "returned")
OPEN_STATUSES = ("triage", "assigned", "acknowledged", "in_progress", "returned")
CHANNELS = ("sms", "voice", "operator", "api")
URGENCIES = ("urgent", "normal", "low")
# Where a case came from: a resident's report, a grid member's patrol (巡查/上报), or a problem a
# member settled on the spot (即办件). Patrol and on-the-spot cases get no receipt and no survey.
SOURCES = ("resident", "patrol", "on_the_spot")

# Case numbers are the primary key offset into six digits: 100001, 100002, ... Unique and safe
# under concurrent creation (the database hands out the key), digits only, at most 8 digits
# for the first 99.9 million cases.
NUMBER_BASE = 100000


class Case(Base):
    __tablename__ = "cases"
    # AUTOINCREMENT on SQLite: a case number (derived from the key) is never handed out twice.
    __table_args__ = (
        sa.Index("ix_cases_reporter_created", "reporter_phone", "created_at"),
        sa.Index("ix_cases_status_ack_due", "status", "ack_due_at"),
        sa.Index("ix_cases_area_created", "area_id", "created_at"),
        sa.Index("ix_cases_team_created", "team_id", "created_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(enum(*STATUSES, name="case_status"), index=True)
    category: Mapped[str] = mapped_column(sa.String(48), index=True)
    subcategory: Mapped[str | None] = mapped_column(sa.String(48))
    department: Mapped[str | None] = mapped_column(sa.String(48))
    urgency: Mapped[str] = mapped_column(enum(*URGENCIES, name="case_urgency"), default="normal")
    confidence: Mapped[float] = mapped_column(sa.Float, default=0.0)
    channel: Mapped[str] = mapped_column(enum(*CHANNELS, name="case_channel"))
    reporter_phone: Mapped[str | None] = mapped_column(sa.String(20))
    reporter_name: Mapped[str] = mapped_column(sa.String(64), default="")
    resident_id: Mapped[int | None] = mapped_column(sa.ForeignKey("residents.id", ondelete="SET NULL"))
    area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("areas.id", ondelete="RESTRICT"), index=True)
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id", ondelete="RESTRICT"), index=True)
    text: Mapped[str] = mapped_column(sa.Text)
    classification: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    awaiting: Mapped[str | None] = mapped_column(sa.String(24))  # "location": asked the sender where
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, onupdate=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    ack_due_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    due_at: Mapped[datetime | None] = mapped_column(sa.DateTime, index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    overdue: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # Closed loop (issue 3): satisfaction, reopening, repeats, and the sweeps' one-time claims.
    rating: Mapped[str | None] = mapped_column(sa.String(24))  # satisfied, basically_satisfied, dissatisfied, no_response
    rated_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    survey_sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    reopen_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    repeat_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    escalation_level: Mapped[int] = mapped_column(sa.Integer, default=0)
    # Field work and figures (issue 13): the source, and which member reported, acknowledged and
    # resolved it (a member's 考核 figures); contact "phone" puts it in the 回访 (call-back) queue.
    source: Mapped[str] = mapped_column(enum(*SOURCES, name="case_source"), default="resident", server_default="resident")
    reporter_member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"))
    acknowledged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"))
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"))
    contact: Mapped[str] = mapped_column(sa.String(8), default="sms", server_default="sms")
    # The text's search terms (models.search: character bigrams), space-separated; PostgreSQL
    # indexes them (GIN over the array) for free-text search at scale; SQLite scans the text.
    search_tokens: Mapped[str | None] = mapped_column(sa.Text)
    ack_reminded_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    due_reminded_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    ack_escalated_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    due_escalated_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    # Privacy (issue 10): set when the reporter's phone and texts were anonymised (retention, erasure).
    anonymised_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

    area: Mapped[Area | None] = relationship()
    team: Mapped[Team | None] = relationship()
    informed: Mapped[list["CaseTeam"]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseTeam.id"
    )

    @property
    def number(self) -> str:
        return str(NUMBER_BASE + self.id)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @staticmethod
    def id_from_number(number: str) -> int | None:
        number = (number or "").strip()
        if not number.isdecimal() or len(number) > 8 or int(number) <= NUMBER_BASE:
            return None
        return int(number) - NUMBER_BASE

    @classmethod
    def by_number(cls, session: Session, number: str) -> "Case | None":
        case_id = cls.id_from_number(number)
        return session.get(cls, case_id) if case_id else None


class CaseTeam(Base):
    """A team informed of a case (the handling team is Case.team)."""

    __tablename__ = "case_teams"
    __table_args__ = (sa.UniqueConstraint("case_id", "team_id", name="case_team"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id", ondelete="RESTRICT"))
    role: Mapped[str] = mapped_column(sa.String(24), default="informed")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="informed")
    team: Mapped[Team] = relationship()


@sa.event.listens_for(Case, "before_insert")
@sa.event.listens_for(Case, "before_update")
def _index_text(mapper, connection, target: Case) -> None:
    """Keep the search terms in step with the text, whatever code path wrote it."""
    if target.search_tokens is None or sa.inspect(target).attrs.text.history.has_changes():
        target.search_tokens = index_text(target.text or "")
