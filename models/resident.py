"""Residents (registered phone -> area) and the opt-out list (any phone)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .area import Area
from .base import Base, utcnow


class Resident(Base):
    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(64), default="")
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("areas.id", ondelete="RESTRICT"), index=True)
    address: Mapped[str] = mapped_column(sa.String(256), default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)

    area: Mapped[Area] = relationship()


class OptOut(Base):
    """A phone that asked for no more SMS (退订/TD/STOP, or Twilio error 21610)."""

    __tablename__ = "opt_outs"

    phone: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(32))  # keyword, provider_21610, operator
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
