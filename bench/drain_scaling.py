"""How intake scales with worker processes: a burst of signed SMS lands on the webhook (in this
process, faster than any worker drains it) while 1, 2, 4 ... real `gridline worker` processes
drain the inbox. For each count: cases per second, receipt-queued latency, and the CPU the
workers and PostgreSQL spent per case.

    python bench/drain_scaling.py [--messages 300] [--workers 1,2,4]

Needs PostgreSQL and Redis on 127.0.0.1 (GRIDLINE_BENCH_* to change). Keep runs short.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

from common import DATABASE_URL, REDIS_URL, cpu_seconds, env, percentile, processes, reset_database, table
from intake_cpu import backend_cpu_seconds, post_messages


def live_workers(expected: int, timeout: float = 60) -> None:
    import redis
    from rq import Worker

    connection = redis.Redis.from_url(REDIS_URL)
    deadline = time.monotonic() + timeout
    while len(Worker.all(connection=connection)) < expected:
        if time.monotonic() > deadline:
            raise RuntimeError("workers did not come up")
        time.sleep(0.2)


def run(workers: int, messages: int) -> dict:
    import sqlalchemy as sa

    reset_database(residents=messages)
    with tempfile.TemporaryDirectory() as tmp:
        environ = env(GRIDLINE_INSTANCE_PATH=tmp)
        os.environ.update(environ)
        worker = [sys.executable, "-m", "gateway.cli", "worker"]
        with processes(*[worker] * workers, environ=environ) as procs:
            live_workers(workers)
            from gateway import create_app

            app = create_app()
            rt = app.extensions["gridline"]
            client = app.test_client()
            watcher = sa.create_engine(DATABASE_URL)
            cpu_before, pg_before = cpu_seconds([p.pid for p in procs]), backend_cpu_seconds(watcher)
            start = time.monotonic()
            post_messages(client, 0, messages)
            posted = time.monotonic() - start
            with watcher.connect() as conn:
                while conn.execute(sa.text("SELECT count(*) FROM inbound_messages WHERE status = 'received'")).scalar():
                    conn.commit()
                    if time.monotonic() - start > 300:
                        raise RuntimeError("not drained within 5 minutes")
                    time.sleep(0.05)
            elapsed = time.monotonic() - start
            cpu = cpu_seconds([p.pid for p in procs]) - cpu_before
            pg_cpu = backend_cpu_seconds(watcher) - pg_before
            with watcher.connect() as conn:
                rows = conn.execute(sa.text("""
                    SELECT extract(epoch FROM min(o.created_at) - i.received_at) * 1000
                    FROM inbound_messages i JOIN outbound_messages o ON o.case_id = i.case_id AND o.kind = 'receipt'
                    WHERE i.outcome = 'case_opened' GROUP BY i.id, i.received_at""")).scalars().all()
            watcher.dispose()
            rt.close()
    receipts = [float(v) for v in rows]
    return {"workers": workers, "cases": len(receipts), "posted_s": posted, "elapsed_s": elapsed,
            "cases_per_s": messages / elapsed, "worker_cpu_ms_per_case": cpu / messages * 1000,
            "postgres_cpu_ms_per_case": pg_cpu / messages * 1000,
            "receipt_p50_ms": percentile(receipts, 50), "receipt_p99_ms": percentile(receipts, 99)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = [run(int(k), args.messages) for k in args.workers.split(",")]
    if args.json:
        print(json.dumps(results))
        return
    print(f"\nBurst of {args.messages} new cases drained by N `gridline worker` processes (PostgreSQL, Redis, "
          f"webhook in the benchmark's process)")
    print(table(["workers", "cases/s", "worker CPU ms/case", "PostgreSQL CPU ms/case", "receipt p50 ms",
                 "receipt p99 ms", "posting took s"],
                [[r["workers"], f"{r['cases_per_s']:.0f}", f"{r['worker_cpu_ms_per_case']:.1f}",
                  f"{r['postgres_cpu_ms_per_case']:.1f}", f"{r['receipt_p50_ms']:.0f}", f"{r['receipt_p99_ms']:.0f}",
                  f"{r['posted_s']:.1f}"] for r in results]))


if __name__ == "__main__":
    main()
