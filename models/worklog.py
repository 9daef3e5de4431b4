"""民情日志: a grid member's visit (走访) or work-log (日志) entry, kept apart from cases."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, enum, utcnow

KINDS = ("visit", "log")


class WorkLog(Base):
    __tablename__ = "work_logs"
    __table_args__ = (sa.Index("ix_work_logs_area_created", "area_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(enum(*KINDS, name="work_log_kind"))
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"), index=True)
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("teams.id", ondelete="SET NULL"))
    area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("areas.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(sa.String(128), default="")
    text: Mapped[str] = mapped_column(sa.Text)
    inbound_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inbound_messages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)
