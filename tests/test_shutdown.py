"""Graceful shutdown: a worker told to stop (SIGTERM, as a deploy or a service manager does)
finishes the message in hand, hands the rest of its batch back to the inbox at once, and exits;
another worker takes them without waiting for a sweep."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import sqlalchemy as sa
from rq import Queue

from tests.conftest import drain_queues, process_env
from workers import inbox
from workers.queues import INBOUND

SENDERS = 60


def processed(rt) -> int:
    with rt.db.engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM inbound_messages WHERE status <> 'received'")).scalar()


def test_a_stopping_worker_finishes_the_message_in_hand_and_hands_back_the_rest(phone, rt, demo, settings):
    for i in range(SENDERS):
        phone.text(f"+8613900{i:06d}", "小区门口路灯坏了", drain=False)  # unregistered: triage cases
    env = process_env(settings)
    worker = subprocess.Popen([sys.executable, "-m", "gateway.cli", "worker"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while processed(rt) < 3:
            assert worker.poll() is None, "worker exited"
            assert time.monotonic() < deadline, "worker never started"
            time.sleep(0.02)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()

    done = processed(rt)
    assert done < SENDERS, "the worker drained everything before it was told to stop; nothing to hand back"
    # Nothing half done and nothing stranded: every unprocessed message is back on the inbox,
    # and a drain job waits for the next worker.
    with rt.db.engine.connect() as conn:
        waiting = set(conn.execute(sa.text("SELECT id FROM inbound_messages WHERE status = 'received'")).scalars())
    on_list = [int(v) for v in rt.redis.lrange(inbox.PENDING, 0, -1)]
    assert set(on_list) == waiting and len(on_list) == len(waiting) == SENDERS - done
    assert on_list == sorted(on_list)  # handed back in arrival order, ahead of newer messages
    assert any(job.func_name.endswith("drain_inbox") for job in Queue(INBOUND, connection=rt.redis).jobs)

    drain_queues(rt)
    with rt.db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT outcome, count(*) FROM inbound_messages GROUP BY outcome")).all() == [
            ("case_opened", SENDERS)]
        assert conn.execute(sa.text("SELECT count(*) FROM cases")).scalar() == SENDERS
        assert conn.execute(sa.text("SELECT count(*) FROM outbound_messages WHERE kind = 'receipt'")).scalar() == SENDERS
