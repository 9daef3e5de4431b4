"""Periodic jobs, declared as data, and the scheduler loop (`gridline scheduler`).

Each tick of each job is claimed with SET NX on a key named after the tick, so two schedulers
running side by side enqueue every job once per interval.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

import redis

from .jobs.deadlines import sweep_deadlines
from .jobs.retention import sweep_retention
from .jobs.settle import settle_unknown
from .jobs.sweeps import sweep_inbound, sweep_outbound

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    name: str
    job: Callable
    every_seconds: int


SCHEDULE = (
    Periodic("sweep_inbound", sweep_inbound, 15),
    Periodic("sweep_outbound", sweep_outbound, 15),
    Periodic("sweep_deadlines", sweep_deadlines, 60),
    Periodic("sweep_retention", sweep_retention, 3600),
    Periodic("settle_unknown", settle_unknown, 60),
)


def tick(connection: redis.Redis, now: float | None = None, schedule=SCHEDULE) -> list[str]:
    """Enqueue every periodic job whose interval has begun and not yet been claimed."""
    now = time.time() if now is None else now
    enqueued = []
    for periodic in schedule:
        slot = int(now // periodic.every_seconds)
        key = f"gridline:schedule:{periodic.name}:{slot}"
        if connection.set(key, "1", nx=True, ex=periodic.every_seconds * 4):
            periodic.job.enqueue(connection)
            enqueued.append(periodic.name)
    return enqueued


def run_scheduler(connection: redis.Redis, stop: Callable[[], bool] = lambda: False, poll: float = 1.0) -> None:
    log.info("scheduler started jobs=%s", ",".join(p.name for p in SCHEDULE))
    while not stop():
        try:
            names = tick(connection)
            if names:
                log.debug("scheduler enqueued %s", names)
        except redis.RedisError as exc:
            log.warning("scheduler cannot reach redis: %s", exc)
        time.sleep(poll)
