"""Backpressure in one snapshot: what waits where, for how long, how fast each stage runs, and
which workers are alive. Read by `/metrics` (Prometheus text), `gridline status` and the
console's dashboard for admins.

The database is the truth for what waits (a message is 'received' until processed, an SMS
'pending' until handed to the provider); Redis says what the queues hold, what each stage did
(workers.stages) and who works (`live_workers`). Each source that does not answer is named
under `errors`, and the rest is still reported.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

import sqlalchemy as sa

from . import inbox, stages
from .queues import ALL_QUEUES


# Live workers come from RQ's own registry (state and job in hand): every worker keeps a hash
# `rq:worker:NAME` with a time to live it renews on its heartbeats, so a worker killed outright
# drops out when that expires. To do: read workers.liveness's heartbeats (every 5 s) instead.


@dataclass(frozen=True)
class WorkerBeat:
    name: str
    host: str
    pid: int | None
    state: str            # idle, busy, suspended, ...
    job: str | None       # the job in hand, when busy
    last_seen_seconds: float | None
    queues: tuple[str, ...]

    def to_dict(self) -> dict:
        return asdict(self)


def live_workers(connection, now: datetime | None = None) -> list[WorkerBeat]:
    from rq import Worker

    now = now or datetime.now(timezone.utc)
    beats = []
    for w in Worker.all(connection=connection):
        seen = w.last_heartbeat
        if seen is not None and seen.tzinfo is None:
            seen = seen.replace(tzinfo=timezone.utc)
        beats.append(WorkerBeat(
            name=w.name, host=w.hostname or "", pid=w.pid, state=str(getattr(w.get_state(), "value", w.get_state())),
            job=w.get_current_job_id(), last_seen_seconds=round((now - seen).total_seconds(), 1) if seen else None,
            queues=tuple(w.queue_names()),
        ))
    return sorted(beats, key=lambda b: (b.host, b.name))


@dataclass
class Waiting:
    count: int = 0
    oldest_seconds: float | None = None


@dataclass
class Vitals:
    queues: dict[str, int] = field(default_factory=dict)          # Redis: inbox ids, RQ jobs per queue
    failed_jobs: dict[str, int] = field(default_factory=dict)     # RQ's failed registry per queue
    inbound: Waiting = field(default_factory=Waiting)             # stored, not yet processed
    outbound: Waiting = field(default_factory=Waiting)            # pending and due, not yet sent
    held: int = 0                                                 # held through quiet hours
    stages: dict[str, dict] = field(default_factory=dict)
    workers: list[WorkerBeat] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["workers"] = [w.to_dict() for w in self.workers]
        data["live_workers"] = len(self.workers)
        for stage in data["stages"].values():
            stage["buckets"] = [[bound, count] for bound, count in stage["buckets"]]
        return data


def _age(now, oldest) -> float | None:
    return None if oldest is None else round(max(0.0, (now - oldest).total_seconds()), 1)


def snapshot(rt) -> Vitals:
    vitals = Vitals()
    now = rt.now()
    try:
        _database(rt, now, vitals)
    except Exception as exc:  # report what answers; name what does not
        vitals.errors["database"] = exc.__class__.__name__
    try:
        _redis(rt.redis, vitals)
    except Exception as exc:
        vitals.errors["redis"] = exc.__class__.__name__
    return vitals


def _database(rt, now, vitals: Vitals) -> None:
    from models import InboundMessage, OutboundMessage

    with rt.db.engine.connect() as conn:
        count, oldest = conn.execute(
            sa.select(sa.func.count(), sa.func.min(InboundMessage.received_at))
            .where(InboundMessage.status == "received")).one()
        vitals.inbound = Waiting(count, _age(now, oldest))
        due = sa.or_(OutboundMessage.next_attempt_at.is_(None), OutboundMessage.next_attempt_at <= now)
        count, oldest = conn.execute(
            sa.select(sa.func.count(), sa.func.min(OutboundMessage.created_at))
            .where(OutboundMessage.status.in_(("pending", "sending")), due)).one()
        vitals.outbound = Waiting(count, _age(now, oldest))
        vitals.held = conn.execute(
            sa.select(sa.func.count()).select_from(OutboundMessage).where(OutboundMessage.status == "held")).scalar()


def _redis(connection, vitals: Vitals) -> None:
    from rq import Queue
    from rq.registry import FailedJobRegistry

    with connection.pipeline(transaction=False) as pipe:
        pipe.llen(inbox.PENDING)
        for name in ALL_QUEUES:
            pipe.llen(Queue(name, connection=connection).key)
            pipe.zcard(FailedJobRegistry(name, connection=connection).key)
        raw = pipe.execute()
    vitals.queues["inbox"] = int(raw[0])
    for i, name in enumerate(ALL_QUEUES):
        vitals.queues[name] = int(raw[1 + 2 * i])
        vitals.failed_jobs[name] = int(raw[2 + 2 * i])
    vitals.stages = stages.read(connection)
    vitals.workers = live_workers(connection)


STAGE_WORDS = {"received": "接收", "intake": "立案处理", "send": "短信发送"}


def _seconds(value: float | None) -> str:
    if value is None:
        return "无"
    return f"{value:.0f} 秒" if value < 120 else f"{value / 60:.1f} 分钟"


def within(figures: dict, bound: float) -> float | None:
    """Share of a stage's timed observations at or under `bound` seconds (a bucket bound)."""
    if not figures["timed"]:
        return None
    return dict(figures["buckets"]).get(bound, 0) / figures["timed"]


def describe(v: Vitals) -> list[str]:
    """`gridline status` in Chinese, one line per fact."""
    lines = []
    if "redis" not in v.errors:
        queues = "，".join(f"{name} {count}" for name, count in v.queues.items())
        failed = sum(v.failed_jobs.values())
        lines.append(f"队列：{queues}" + (f"；失败任务 {failed}" if failed else ""))
    if "database" not in v.errors:
        lines.append(f"待处理来信：{v.inbound.count} 条，最早已等 {_seconds(v.inbound.oldest_seconds)}")
        lines.append(f"待发短信：{v.outbound.count} 条，最早已等 {_seconds(v.outbound.oldest_seconds)}；"
                     f"静默时段暂缓 {v.held} 条")
    for stage, f in v.stages.items():
        line = f"{STAGE_WORDS.get(stage, stage)}：累计 {f['count']}，上一分钟 {f['last_minute']}"
        if f["timed"]:
            share = within(f, 1.0)
            line += f"，平均 {f['sum_seconds'] / f['timed'] * 1000:.0f} 毫秒，1 秒内 {share * 100:.1f}%"
        lines.append(line)
    if "redis" not in v.errors:
        lines.append(f"在线 worker：{len(v.workers)}")
        for w in v.workers:
            seen = "无" if w.last_seen_seconds is None else f"{w.last_seen_seconds:.0f} 秒前"
            job = f"，任务 {w.job}" if w.job else ""
            lines.append(f"  {w.host} pid {w.pid} {w.state}，心跳 {seen}{job}")
    for source, error in v.errors.items():
        lines.append(f"无法读取 {source}：{error}")
    return lines
