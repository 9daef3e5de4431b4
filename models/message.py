"""Inbound messages (every one is kept, with its outcome) and outbound messages (the outbox)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, enum, utcnow

INBOUND_STATES = ("received", "processed", "rejected")
OUTBOUND_STATES = ("pending", "sending", "queued", "sent", "delivered", "undelivered", "failed", "suppressed", "held",
                   "unknown")  # unknown: a send timed out; settled from a report or a status query
# Provider statuses arrive out of order: a status only replaces one of lower rank.
STATUS_RANK = {
    "held": 0, "pending": 0, "sending": 1, "unknown": 1, "accepted": 2, "scheduled": 2, "queued": 2,
    "sent": 3, "failed": 4, "undelivered": 4, "delivered": 5, "read": 6, "suppressed": 7,
}
FINAL_STATES = ("delivered", "undelivered", "failed", "suppressed", "read")


class InboundMessage(Base):
    __tablename__ = "inbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_sid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    channel: Mapped[str] = mapped_column(sa.String(16), default="sms")
    # The door it came through (workers.entry.DOORS) and, for a report a person typed, who.
    door: Mapped[str | None] = mapped_column(sa.String(24))
    entered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    from_raw: Mapped[str] = mapped_column(sa.String(64), default="")
    from_phone: Mapped[str | None] = mapped_column(sa.String(20), index=True)
    to: Mapped[str] = mapped_column(sa.String(32), default="")
    body: Mapped[str] = mapped_column(sa.Text, default="")
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    status: Mapped[str] = mapped_column(enum(*INBOUND_STATES, name="inbound_status"), default="received")
    outcome: Mapped[str | None] = mapped_column(sa.String(32))  # case_opened, case_joined, status_query ...
    outcome_note: Mapped[str] = mapped_column(sa.Text, default="")
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

    __table_args__ = (sa.Index("ix_inbound_unprocessed", "status", "received_at"),)


class OutboundMessage(Base):
    __tablename__ = "outbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(sa.String(20), index=True)
    template: Mapped[str] = mapped_column(sa.String(48))
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    body: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[str] = mapped_column(sa.String(24))  # receipt, team_notice, status_update, ...
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id", ondelete="SET NULL"), index=True)
    inbound_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inbound_messages.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    provider: Mapped[str] = mapped_column(sa.String(16), default="outbox")
    provider_sid: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    error_code: Mapped[str | None] = mapped_column(sa.String(16))
    error: Mapped[str] = mapped_column(sa.Text, default="")
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.Index("ix_outbound_due", "status", "next_attempt_at"),)
