"""Console logins: sessions held server-side and throttled password checks.

Sessions: the signed cookie carries only a random session id; the `user_sessions` row (its
sha256) is what makes it valid. Logout deletes the row, a password change or switching a user
off deletes all of theirs, so a saved cookie stops working at once, not after 8 hours.

Throttling (the `limits` library, moving windows kept in Redis, shared by every web process):
- per account and source address: 5 failures in 15 minutes lock that account *from that
  address only*, so an attacker elsewhere cannot lock an admin out;
- per source address: 20 failures in 15 minutes, whatever the usernames (password spraying);
- per account, all addresses together: 50 failures an hour stop logins to that account from
  addresses it has not logged in from successfully in the last 30 days (a distributed guess
  at one account), while its owner's usual addresses still get in.
Unknown usernames cost a password-hash check like known ones (a dummy hash), so the response
time does not tell which usernames exist.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis
import sqlalchemy as sa
from limits import parse
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from models import User, UserSession

log = logging.getLogger(__name__)
SESSION_LIFETIME = timedelta(hours=8)
PER_ACCOUNT_ADDRESS = parse("5 per 15 minutes")
PER_ADDRESS = parse("20 per 15 minutes")
PER_ACCOUNT = parse("50 per hour")
KNOWN_ADDRESS_DAYS = 30
# Verified when the username is unknown, so that both paths cost one hash check.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# -- sessions ----------------------------------------------------------------------------------
def open_session(db: Session, user: User, address: str, now: datetime) -> str:
    """A new session for user; returns the id to put in the cookie."""
    sid = secrets.token_urlsafe(32)
    db.add(UserSession(sid_hash=_digest(sid), user_id=user.id, address=(address or "")[:64], created_at=now,
                       expires_at=now + SESSION_LIFETIME))
    return sid


def session_user(db: Session, sid: str | None, now: datetime) -> User | None:
    """The active user whose unexpired session this is, else None."""
    if not sid:
        return None
    row = db.scalar(sa.select(UserSession).where(UserSession.sid_hash == _digest(sid)))
    if row is None or row.expires_at <= now:
        return None
    user = db.get(User, row.user_id)
    return user if user is not None and user.active else None


def close_session(db: Session, sid: str | None) -> None:
    if sid:
        db.execute(sa.delete(UserSession).where(UserSession.sid_hash == _digest(sid)))


def close_all_sessions(db: Session, user_id: int, now: datetime | None = None) -> int:
    """End every session of a user (password changed, user switched off); with now, also
    drops expired sessions of everyone (housekeeping)."""
    result: Any = db.execute(sa.delete(UserSession).where(UserSession.user_id == user_id))
    count = result.rowcount
    if now is not None:
        db.execute(sa.delete(UserSession).where(UserSession.expires_at <= now))
    return count


# -- throttled password checks ---------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    user: User | None = None
    wait_minutes: int = 0  # > 0: throttled, try again after this many minutes

    @property
    def throttled(self) -> bool:
        return self.wait_minutes > 0


class LoginGuard:
    """Password checks under the three limits above; one per runtime, on its Redis."""

    def __init__(self, redis_client, prefix: str = "gridline:login"):
        self.redis = redis_client
        self.prefix = prefix
        self.limiter = MovingWindowRateLimiter(
            RedisStorage("redis://", connection_pool=redis_client.connection_pool, key_prefix=prefix))

    def _known_key(self, username: str) -> str:
        return f"{self.prefix}:known:{_digest(username)}"

    def _blocked(self, username: str, address: str) -> int:
        """Minutes to wait when any limit is exhausted, else 0."""
        checks = [(PER_ACCOUNT_ADDRESS, ("account-address", username, address)), (PER_ADDRESS, ("address", address))]
        if not self.redis.sismember(self._known_key(username), address):
            checks.append((PER_ACCOUNT, ("account", username)))
        waits = []
        for item, keys in checks:
            if not self.limiter.test(item, *keys):
                reset = self.limiter.get_window_stats(item, *keys).reset_time
                waits.append(max(1, int((reset - time.time()) // 60) + 1))
        return max(waits, default=0)

    def _failed(self, username: str, address: str) -> None:
        self.limiter.hit(PER_ACCOUNT_ADDRESS, "account-address", username, address)
        self.limiter.hit(PER_ADDRESS, "address", address)
        self.limiter.hit(PER_ACCOUNT, "account", username)

    def _succeeded(self, username: str, address: str) -> None:
        key = self._known_key(username)
        self.redis.sadd(key, address)
        self.redis.expire(key, KNOWN_ADDRESS_DAYS * 86400)
        self.limiter.clear(PER_ACCOUNT_ADDRESS, "account-address", username, address)

    def check(self, db: Session, username: str, password: str, address: str) -> Outcome:
        """The user when the password is right and no limit is exhausted. A throttled attempt is
        refused before any password check (and is not counted)."""
        username, address = username[:64], address or "?"
        wait = self._guarded(self._blocked, username, address) or 0
        if wait:
            return Outcome(wait_minutes=wait)
        user = db.scalar(sa.select(User).where(User.username == username))
        ok = check_password_hash(user.password_hash if user is not None else _DUMMY_HASH, password)
        if user is None or not ok:
            self._guarded(self._failed, username, address)
            return Outcome()
        self._guarded(self._succeeded, username, address)
        return Outcome(user=user)

    @staticmethod
    def _guarded(step, username: str, address: str):
        """Redis down: logins go on unthrottled (operators must reach the console during an
        outage; a brute force then still pays a password hash per try), and the log says so."""
        try:
            return step(username, address)
        except redis.RedisError as exc:
            log.warning("login throttle unavailable (redis: %s); checking the password without it", exc)
            return None


MIN_PASSWORD = 8


def set_password(db: Session, user: User, password: str) -> None:
    """A new password hash; every session of the user ends (a stolen cookie dies with the old password)."""
    user.password_hash = generate_password_hash(password)
    if user.id is not None:
        close_all_sessions(db, user.id)


def change_password(db: Session, user: User, current: str, new: str, confirm: str) -> str | None:
    """A user changing their own password; returns the Chinese reason when refused."""
    if not check_password_hash(user.password_hash, current):
        return "当前密码不正确"
    if len(new) < MIN_PASSWORD:
        return f"新密码至少 {MIN_PASSWORD} 位"
    if new != confirm:
        return "两次输入的新密码不一致"
    set_password(db, user, new)
    return None
