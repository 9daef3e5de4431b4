"""Queue names and the job decorator: each job fixes its queue, timeout, retries and TTLs where
it is defined, and gets an `enqueue(connection, *args)` helper."""
from __future__ import annotations

from typing import Callable

from rq import Queue, Retry

INBOUND = "inbound"
OUTBOUND = "outbound"
SWEEPS = "sweeps"
ALL_QUEUES = (INBOUND, OUTBOUND, SWEEPS)  # a worker listens in this order of priority


def job(queue: str, timeout: int = 60, retries: int = 3, intervals=(5, 30, 120), failure_ttl: int = 7 * 86400):
    def wrap(fn: Callable) -> Callable:
        def enqueue(connection, *args, pipeline=None, job_id: str | None = None):
            return Queue(queue, connection=connection).enqueue_call(
                fn,
                args=args,
                timeout=timeout,
                result_ttl=0,
                failure_ttl=failure_ttl,
                retry=Retry(max=retries, interval=list(intervals)) if retries else None,
                job_id=job_id,
                pipeline=pipeline,
            )

        fn.enqueue = enqueue
        fn.queue = queue
        return fn

    return wrap
