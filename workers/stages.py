"""Per-stage throughput and latency, counted in Redis so that every process adds to one figure.

Stages: `received` (the webhook stored a message: a counter), `intake` (stored -> processed: a
message's wait in the queue plus its processing), `send` (an SMS row written -> handed to the
provider). A process notes observations in memory (`note`) and writes them with one pipelined
round trip per batch (`flush`), so the hot paths pay nothing per message.

Each stage is a Redis hash: `count`, `sum_ms` and one field per latency bucket (not cumulative;
`read` makes them cumulative for Prometheus). A per-minute counter beside it gives the recent rate
for `gridline status` without a time-series database.
"""
from __future__ import annotations

import bisect
import logging
import threading
import time
from collections import defaultdict

import redis

log = logging.getLogger(__name__)
PREFIX = "gridline:stage:"
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)  # seconds; +Inf implied
STAGES = ("received", "intake", "send")
MINUTE_TTL = 600

_lock = threading.Lock()
_pending: dict[str, list[float]] = defaultdict(list)


def note(stage: str, seconds: float | None = None) -> None:
    """Remember one observation (a latency in seconds, or None for a bare count)."""
    with _lock:
        _pending[stage].append(-1.0 if seconds is None else max(0.0, seconds))


def count(pipe, stage: str, n: int = 1) -> None:
    """Queue the commands counting n untimed passages on a Redis pipeline the caller executes."""
    record(pipe, stage, [-1.0] * n)


def record(pipe, stage: str, observations: list[float], now: float | None = None) -> None:
    """Queue the commands adding `observations` (seconds; negative: untimed) to a stage."""
    if not observations:
        return
    key = PREFIX + stage
    timed = [s for s in observations if s >= 0]
    pipe.hincrby(key, "count", len(observations))
    if timed:
        pipe.hincrby(key, "timed", len(timed))
        pipe.hincrby(key, "sum_ms", int(sum(timed) * 1000))
        buckets: dict[int, int] = defaultdict(int)
        for seconds in timed:
            buckets[bisect.bisect_left(BUCKETS, seconds)] += 1
        for index, count in buckets.items():
            pipe.hincrby(key, f"b{index}", count)
    minute = int((now or time.time()) // 60)
    pipe.incrby(f"{key}:m:{minute}", len(observations))
    pipe.expire(f"{key}:m:{minute}", MINUTE_TTL)


def flush(connection) -> None:
    """Write what this process noted; a Redis failure drops the figures, never the work."""
    with _lock:
        batch = {stage: values for stage, values in _pending.items() if values}
        _pending.clear()
    if not batch:
        return
    try:
        with connection.pipeline(transaction=False) as pipe:
            for stage, values in batch.items():
                record(pipe, stage, values)
            pipe.execute()
    except (redis.RedisError, OSError) as exc:
        log.warning("stage figures not written: %s", exc)


def read(connection, stages=STAGES, now: float | None = None) -> dict[str, dict]:
    """Each stage's count, timed count, sum (s), cumulative buckets and the last full minute's count."""
    minute = int((now or time.time()) // 60) - 1
    with connection.pipeline(transaction=False) as pipe:
        for stage in stages:
            pipe.hgetall(PREFIX + stage)
            pipe.get(f"{PREFIX}{stage}:m:{minute}")
        raw = pipe.execute()
    out = {}
    for i, stage in enumerate(stages):
        fields = {k.decode() if isinstance(k, bytes) else k: int(v) for k, v in raw[2 * i].items()}
        running, cumulative = 0, []
        for index, bound in enumerate(BUCKETS):
            running += fields.get(f"b{index}", 0)
            cumulative.append((bound, running))
        out[stage] = {
            "count": fields.get("count", 0),
            "timed": fields.get("timed", 0),
            "sum_seconds": fields.get("sum_ms", 0) / 1000,
            "buckets": cumulative,
            "last_minute": int(raw[2 * i + 1] or 0),
        }
    return out
