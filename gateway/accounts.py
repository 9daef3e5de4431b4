"""Console accounts: list users with their tokens, switch a user off or on, revoke API tokens.

Users are switched off, never deleted: case trails name the people who acted. A user switched
off cannot log in, their console sessions are deleted at once (gateway.logins), and their API tokens
stop working at once (the token check requires an active user).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import ApiToken, Area, Team, User


class AccountError(ValueError):
    pass


@dataclass(frozen=True)
class TokenRow:
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class UserRow:
    username: str
    name: str
    role: str
    team: str | None      # team code (members)
    area: str | None      # area code (supervisors)
    active: bool
    tokens: tuple[TokenRow, ...]

    def to_dict(self) -> dict:
        return {"username": self.username, "name": self.name, "role": self.role, "team": self.team, "area": self.area,
                "active": self.active,
                "tokens": [{"id": t.id, "name": t.name, "created_at": t.created_at.isoformat() + "Z",
                            "last_used_at": t.last_used_at.isoformat() + "Z" if t.last_used_at else None}
                           for t in self.tokens]}


def list_users(session: Session) -> list[UserRow]:
    teams = dict(session.execute(sa.select(Team.id, Team.code)).all())
    areas = dict(session.execute(sa.select(Area.id, Area.code)).all())
    tokens: dict[int, list[TokenRow]] = {}
    for token in session.scalars(sa.select(ApiToken).order_by(ApiToken.id)):
        tokens.setdefault(token.user_id, []).append(TokenRow(token.id, token.name, token.created_at, token.last_used_at))
    return [
        UserRow(u.username, u.name, u.role, teams.get(u.team_id), areas.get(u.area_id), u.active,
                tuple(tokens.get(u.id, ())))
        for u in session.scalars(sa.select(User).order_by(User.username))
    ]


def _user(session: Session, username: str) -> User:
    user = session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"用户 {username} 不存在")
    return user


def set_active(session: Session, username: str, active: bool, by: str | None = None) -> None:
    """Switch a user on or off; nobody switches themselves off (an admin locked out by mistake)."""
    if not active and by == username:
        raise AccountError("不能停用自己的账号")
    user = _user(session, username)
    user.active = active
    if active:
        user.failed_logins, user.locked_until = 0, None
    else:
        from .logins import close_all_sessions

        close_all_sessions(session, user.id)  # ended in the database, not only refused per request


def revoke_tokens(session: Session, username: str, token_ids: list[int] | None) -> int:
    """Delete a user's tokens: the given ids, or all of them when token_ids is None."""
    user = _user(session, username)
    query = sa.delete(ApiToken).where(ApiToken.user_id == user.id)
    if token_ids is not None:
        owned = set(session.scalars(sa.select(ApiToken.id).where(ApiToken.user_id == user.id)))
        unknown = sorted(set(token_ids) - owned)
        if unknown:
            raise AccountError(f"用户 {username} 没有令牌 {', '.join(map(str, unknown))}")
        query = query.where(ApiToken.id.in_(token_ids))
    return session.execute(query).rowcount
