"""Console sessions held server-side (so logout, a password change or switching a user off ends
them), and the access audit: who viewed or exported which case, when."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class UserSession(Base):
    """One console login. The cookie carries the random id; the row is the proof it still holds."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)  # sha256 of the cookie's session id
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(sa.String(64), default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime)


class AccessRecord(Base):
    """An access to a resident's data: a case viewed (console, API, CLI), listed or exported, or erased."""

    __tablename__ = "access_records"
    __table_args__ = (sa.Index("ix_access_records_case_at", "case_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)
    username: Mapped[str] = mapped_column(sa.String(64))  # console/API user, or "cli:<os user>"
    role: Mapped[str] = mapped_column(sa.String(24), default="")
    action: Mapped[str] = mapped_column(sa.String(16))  # view, list, export, erase, anonymise
    channel: Mapped[str] = mapped_column(sa.String(16))  # console, api, cli, system
    case_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)  # no FK: the record outlives the case
    address: Mapped[str] = mapped_column(sa.String(64), default="")
    detail: Mapped[str] = mapped_column(sa.String(256), default="")
