"""A worker killed mid-job loses no case and doubles none.

A real `gridline worker` process takes the job; the test holds a database lock so the job is
stuck inside its unit of work, kills the worker with SIGKILL, releases the lock, and lets the
sweep and a new worker finish. Exactly one case and one receipt must exist.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import sqlalchemy as sa

from rq.registry import StartedJobRegistry

from tests.conftest import RESIDENT_G1, cases, drain_queues, outbox
from workers.queues import INBOUND


def _hold_lock(rt):
    """Open a transaction that blocks the job's writes (and, on PostgreSQL, its reads of cases)."""
    conn = rt.db.engine.connect()
    if rt.db.dialect == "postgresql":
        conn.execute(sa.text("LOCK TABLE cases IN ACCESS EXCLUSIVE MODE"))
    else:
        conn.exec_driver_sql("COMMIT")  # end the BEGIN our engine emitted, then take the write lock
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    return conn


def test_worker_killed_mid_job_then_sweep_makes_exactly_one_case(phone, rt, demo, settings):
    phone.text(RESIDENT_G1, "村东头两伙人打起来了", drain=False)
    lock = _hold_lock(rt)
    env = dict(os.environ, GRIDLINE_INSTANCE_PATH=str(settings.instance_path),
               GRIDLINE_DATABASE_URL=settings.database_url, GRIDLINE_REDIS_URL=settings.redis_url,
               GRIDLINE_SECRET_KEY="test-secret", GRIDLINE_LOG_LEVEL="WARNING")
    worker = subprocess.Popen([sys.executable, "-m", "gateway.cli", "worker"], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        registry = StartedJobRegistry(INBOUND, connection=rt.redis)
        deadline = time.monotonic() + 60
        while registry.count == 0:
            assert time.monotonic() < deadline, "worker never started the job"
            assert worker.poll() is None, "worker exited"
            time.sleep(0.05)
        time.sleep(0.3)  # inside the job, blocked on the lock
        os.killpg(worker.pid, signal.SIGKILL)  # the worker and the RQ scheduler it forked
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        lock.rollback()
        lock.close()

    assert cases(rt) == []  # the killed unit of work was rolled back
    from workers.jobs.sweeps import sweep_inbound

    assert sweep_inbound(grace_seconds=0) == 1
    drain_queues(rt)
    drain_queues(rt)
    [case] = cases(rt)
    assert case.category == "stability"
    assert len(outbox(rt, to=RESIDENT_G1, kind="receipt")) == 1
