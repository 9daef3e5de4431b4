"""Declarative base, naming convention (stable constraint names for Alembic) and time helpers."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    """Naive UTC: every timestamp column stores UTC without a zone (the same on SQLite and PostgreSQL)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def to_local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc).astimezone(LOCAL_TZ)


def from_local(value: datetime) -> datetime:
    """An aware or Beijing-naive datetime -> naive UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TZ)
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def iso(value: datetime | None) -> str | None:
    """UTC timestamps in JSON: 2026-11-22T08:00:00Z."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def enum(*values: str, name: str) -> sa.Enum:
    """A status column: VARCHAR plus a CHECK constraint, the same on both databases."""
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=24)
