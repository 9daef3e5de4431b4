"""Areas: district > street > community > grid (> building ...), any depth."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from .base import Base, utcnow

STOCK_LEVELS = ("district", "street", "community", "grid", "building")


class Area(Base):
    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(128))
    level: Mapped[str] = mapped_column(sa.String(32))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("areas.id", ondelete="RESTRICT"), index=True)
    aliases: Mapped[str] = mapped_column(sa.String(512), default="")  # "|"-separated other names
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)

    parent: Mapped["Area | None"] = relationship(remote_side=[id])

    def names(self) -> list[str]:
        return [self.name] + [a for a in self.aliases.split("|") if a]

    def lineage(self) -> list["Area"]:
        """This area, then its parent, up to the root."""
        chain, node, seen = [], self, set()
        while node is not None and node.id not in seen:
            chain.append(node)
            seen.add(node.id)
            node = node.parent
        return chain

    @classmethod
    def by_code(cls, session: Session, code: str) -> "Area | None":
        return session.scalar(sa.select(cls).where(cls.code == code))
