"""The case trail: append-only events (who, what, when, channel, note)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class CaseEvent(Base):
    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(sa.String(32))
    at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(sa.String(128))  # "system", "resident +86138****5678", "member 张三"
    channel: Mapped[str] = mapped_column(sa.String(16), default="system")
    note: Mapped[str] = mapped_column(sa.Text, default="")
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)
