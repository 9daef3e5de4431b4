"""Teams (a kind at an area) and their members (registered phones with a role)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .area import Area
from .base import Base, enum, utcnow

STOCK_TEAM_KINDS = (
    "grid_team", "community_station", "street_center", "district_center",
    "justice_office", "petition_office", "police_station",
    "housing_bureau", "environment_bureau", "transport_bureau", "education_bureau",
    "hrss_bureau", "commerce_bureau", "health_commission", "civil_affairs_bureau",
)
ROLES = ("leader", "member", "instructor", "volunteer")


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(128))
    kind: Mapped[str] = mapped_column(sa.String(48), index=True)
    area_id: Mapped[int] = mapped_column(sa.ForeignKey("areas.id", ondelete="RESTRICT"), index=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)

    area: Mapped[Area] = relationship()
    members: Mapped[list["Member"]] = relationship(back_populates="team", order_by="Member.id")

    @property
    def leaders(self) -> list["Member"]:
        return [m for m in self.members if m.role == "leader" and m.active]

    @property
    def active_members(self) -> list["Member"]:
        return [m for m in self.members if m.active]


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (sa.UniqueConstraint("phone", "team_id", name="phone_team"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20), index=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(enum(*ROLES, name="member_role"))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)

    team: Mapped[Team] = relationship(back_populates="members")
