"""Inbound-to-notified latency: signed SMS at a steady rate through gunicorn, with real RQ
workers draining the queues; for each new case, the time from the webhook storing the message
to the resident's receipt (and the team's notices) being queued. Prints a table.

Needs PostgreSQL and Redis on 127.0.0.1 (GRIDLINE_BENCH_* to change).
Usage: python bench/latency.py [--rate 200] [--seconds 15] [--workers 2]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import uuid

import requests
import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from common import (AUTH_TOKEN, DATABASE_URL, REPORTS, bench_phone, env, free_port, gunicorn, percentile, processes,
                    reset_database, table, wait_http)


def send_steady(port: int, rate: int, seconds: int, senders: int = 4) -> tuple[int, list[float]]:
    url = f"http://127.0.0.1:{port}/twilio/sms"
    validator = RequestValidator(AUTH_TOKEN)
    total = rate * seconds
    start = time.monotonic() + 0.5
    latencies: list[float] = []
    errors = [0]

    def sender(k: int) -> None:
        session = requests.Session()
        for i in range(k, total, senders):
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "0" * 32, "From": bench_phone(i),
                      "To": "+8610690012345", "Body": REPORTS[i % len(REPORTS)], "NumMedia": "0"}
            t = time.monotonic()
            r = session.post(url, data=params, headers={"X-Twilio-Signature": validator.compute_signature(url, params)})
            latencies.append((time.monotonic() - t) * 1000)
            if r.status_code != 200:
                errors[0] += 1

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors[0], latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    total = args.rate * args.seconds
    reset_database(residents=total)
    port = free_port()
    worker = [sys.executable, "-m", "gateway.cli", "worker"]
    with tempfile.TemporaryDirectory() as tmp, processes(
        gunicorn(port, 2, "gthread", 4), *[worker] * args.workers, environ=env(GRIDLINE_INSTANCE_PATH=tmp)
    ):
        wait_http(port)
        time.sleep(3)  # workers load jieba
        errors, webhook_ms = send_steady(port, args.rate, args.seconds)
        engine = sa.create_engine(DATABASE_URL)
        deadline = time.monotonic() + 120
        with engine.connect() as conn:
            while conn.execute(sa.text("SELECT count(*) FROM inbound_messages WHERE status = 'received'")).scalar():
                if time.monotonic() > deadline:
                    break
                time.sleep(0.2)
                conn.commit()
            rows = conn.execute(sa.text("""
                SELECT i.received_at,
                       min(o.created_at) FILTER (WHERE o.kind = 'receipt') AS receipt,
                       max(o.created_at) FILTER (WHERE o.kind = 'team_notice') AS notices
                FROM inbound_messages i JOIN outbound_messages o ON o.case_id = i.case_id
                WHERE i.outcome = 'case_opened' GROUP BY i.id, i.received_at""")).all()
            left = conn.execute(sa.text("SELECT count(*) FROM inbound_messages WHERE status = 'received'")).scalar()
        engine.dispose()
    receipt = [(r.receipt - r.received_at).total_seconds() * 1000 for r in rows if r.receipt]
    notices = [(r.notices - r.received_at).total_seconds() * 1000 for r in rows if r.notices]
    within = sum(1 for v in receipt if v <= 1000) / len(receipt) * 100 if receipt else 0
    print(f"\nInbound-to-notified latency: {args.rate} SMS/s for {args.seconds}s ({total} SMS), gunicorn gthread 2x4, "
          f"{args.workers} RQ workers")
    print(table(["measure", "n", "p50 ms", "p95 ms", "p99 ms", "max ms"], [
        ["webhook answer", len(webhook_ms)] + [f"{percentile(webhook_ms, p):.1f}" for p in (50, 95, 99, 100)],
        ["receipt queued", len(receipt)] + [f"{percentile(receipt, p):.0f}" for p in (50, 95, 99, 100)],
        ["team notices queued", len(notices)] + [f"{percentile(notices, p):.0f}" for p in (50, 95, 99, 100)],
    ]))
    print(f"receipts queued within 1 s: {within:.1f}%   webhook errors: {errors}   left unprocessed: {left}")


if __name__ == "__main__":
    main()
