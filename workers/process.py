"""`gridline worker` as a long-running process that outlives its dependencies: when Redis or
PostgreSQL goes away the loop waits with backoff (1 s, 2 s, ... 30 s)
and carries on, instead of exiting and waiting for someone to restart it. It beats a heartbeat
(workers.liveness) while it runs."""
from __future__ import annotations

import logging
import signal
import threading
import time

import redis
from rq.worker import BaseWorker
from sqlalchemy.exc import SQLAlchemyError

from . import shutdown
from .liveness import Heartbeat

log = logging.getLogger(__name__)
RECOVERABLE = (redis.RedisError, OSError, SQLAlchemyError)
MAX_BACKOFF = 30.0
HEALTHY_AFTER = 60.0  # a run this long resets the backoff


class Backoff:
    def __init__(self, first: float = 1.0, limit: float = MAX_BACKOFF):
        self.first, self.limit, self.next = first, limit, first

    def wait(self, stop: threading.Event) -> None:
        stop.wait(self.next)
        self.next = min(self.next * 2, self.limit)

    def reset(self) -> None:
        self.next = self.first


def _stoppable(base: type[BaseWorker]) -> type[BaseWorker]:
    """An RQ worker class whose stop request (SIGTERM, Ctrl-C) also stops the restart loop."""
    def request_stop(self, signum, frame) -> None:
        self.stop_event.set()
        shutdown.request()  # the job in hand stops between messages and hands the rest back
        base.request_stop(self, signum, frame)

    return type(f"Stoppable{base.__name__}", (base,), {"request_stop": request_stop})


def run_worker(rt, queues: tuple[str, ...], burst: bool = False, fork: bool = False,
               logging_level: str = "INFO", backoff: Backoff | None = None) -> None:
    from rq import Queue, SimpleWorker, Worker

    stop = threading.Event()
    backoff = backoff or Backoff()
    worker_class = _stoppable(Worker if fork else SimpleWorker)
    heartbeat = Heartbeat(rt.redis, "worker").start()
    try:
        while not stop.is_set():
            started = time.monotonic()
            try:
                worker = worker_class([Queue(name, connection=rt.redis) for name in queues], connection=rt.redis)
                worker.stop_event = stop  # type: ignore[attr-defined]
                worker.work(burst=burst, with_scheduler=not burst, logging_level=logging_level)
                if burst or stop.is_set():
                    return
                log.warning("worker loop ended (Redis unreachable?); restarting")
            except RECOVERABLE as exc:
                log.error("worker cannot reach %s: %s; retrying in %.0f s", _what(exc), exc, backoff.next)
            if time.monotonic() - started > HEALTHY_AFTER:
                backoff.reset()
            _own_signals(stop)
            backoff.wait(stop)
    finally:
        heartbeat.stop()


def _own_signals(stop: threading.Event) -> None:
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())


def _what(exc: Exception) -> str:
    return "the database" if isinstance(exc, SQLAlchemyError) else "Redis"
