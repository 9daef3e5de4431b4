"""Is anyone working? Each worker and scheduler process writes a heartbeat key to Redis every
few seconds (it expires when the process dies or hangs without a beat), and the database says
how long the oldest message has been waiting. /healthz reads both."""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from datetime import datetime

import redis
import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import InboundMessage, OutboundMessage

log = logging.getLogger(__name__)
PREFIX = "gridline:heartbeat:"
BEAT_SECONDS = 5
EXPIRES_SECONDS = 20


class Heartbeat:
    """A daemon thread that beats for this process until stopped; a beat Redis refuses is
    skipped (the key expires, which is the truth while Redis is away)."""

    def __init__(self, connection: redis.Redis, role: str):
        self.connection = connection
        self.role = role
        self.key = f"{PREFIX}{role}:{socket.gethostname()}:{os.getpid()}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{role}", daemon=True)

    def start(self) -> "Heartbeat":
        self._thread.start()
        return self

    def beat(self) -> None:
        value = json.dumps({"role": self.role, "pid": os.getpid(), "host": socket.gethostname(), "at": time.time()})
        self.connection.set(self.key, value, ex=EXPIRES_SECONDS)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.beat()
            except (redis.RedisError, OSError) as exc:
                log.debug("heartbeat skipped: %s", exc)
            self._stop.wait(BEAT_SECONDS)

    def stop(self) -> None:
        self._stop.set()
        try:
            self.connection.delete(self.key)
        except (redis.RedisError, OSError):
            pass


def alive(connection: redis.Redis, role: str = "worker") -> int:
    return sum(1 for _ in connection.scan_iter(match=f"{PREFIX}{role}:*", count=500))


def oldest_waiting(session: Session, now: datetime) -> dict[str, float | None]:
    """Seconds the oldest unprocessed inbound message, and the oldest due outbound one, have waited."""
    inbound = session.scalar(sa.select(sa.func.min(InboundMessage.received_at))
                             .where(InboundMessage.status == "received"))
    due = sa.func.coalesce(OutboundMessage.next_attempt_at, OutboundMessage.created_at)
    outbound = session.scalar(sa.select(sa.func.min(due)).where(
        OutboundMessage.status.in_(("pending", "sending")),
        sa.or_(OutboundMessage.next_attempt_at.is_(None), OutboundMessage.next_attempt_at <= now)))
    return {name: (max(0.0, (now - at).total_seconds()) if at is not None else None)
            for name, at in (("inbound", inbound), ("outbound", outbound))}
