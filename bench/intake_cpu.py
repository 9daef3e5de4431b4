"""Intake CPU per new case: the worker's own CPU time (and the PostgreSQL backend's) to turn one
stored SMS into a case, its trail and its queued SMS, with one worker on PostgreSQL.

Messages arrive through the real webhook (signed POSTs to the Flask app in this process), each
from a different registered resident so that each opens a new case. Then the inbox is drained by
the very job an RQ worker runs (`drain_inbox`), in this process: first unprofiled for the figures,
then under cProfile for the top entries.

    python bench/intake_cpu.py [--messages 400] [--profiled 200] [--top 25]
    python bench/intake_cpu.py --compare REV     # the same run on git revision REV, then on this tree

Needs PostgreSQL and Redis on 127.0.0.1 (GRIDLINE_BENCH_* to change). Keep runs short: the
machine is shared.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from common import AUTH_TOKEN, DATABASE_URL, REPORTS, ROOT, bench_phone, cpu_seconds, env, reset_database

WARM_UP = 30


def backend_cpu_seconds(engine) -> float:
    """User + system CPU of every PostgreSQL backend connected to the bench database (same machine)."""
    import sqlalchemy as sa

    name = DATABASE_URL.rsplit("/", 1)[1]
    with engine.connect() as conn:
        pids = conn.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"),
                            {"n": name}).scalars().all()
    return cpu_seconds(pids)


def post_messages(client, start: int, count: int) -> None:
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(AUTH_TOKEN)
    url = "http://localhost/twilio/sms"
    for i in range(start, start + count):
        params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "0" * 32, "From": bench_phone(i),
                  "To": "+8610690012345", "Body": REPORTS[i % len(REPORTS)], "NumMedia": "0"}
        response = client.post(url, data=params, headers={"X-Twilio-Signature": validator.compute_signature(url, params)})
        assert response.status_code == 200, response.status_code


def drain(rt) -> tuple[int, float, float]:
    """Drain the inbox once; (messages, worker CPU s, wall s)."""
    from workers.jobs.inbound import drain_inbox

    cpu, wall = time.process_time(), time.perf_counter()
    done = drain_inbox()
    return done, time.process_time() - cpu, time.perf_counter() - wall


def measure(messages: int, profiled: int, top: int) -> dict:
    import sqlalchemy as sa

    os.environ.update(env())
    reset_database(residents=WARM_UP + messages + profiled)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["GRIDLINE_INSTANCE_PATH"] = tmp
        from gateway import create_app

        app = create_app()
        rt = app.extensions["gridline"]
        client = app.test_client()
        watcher = sa.create_engine(DATABASE_URL)
        # Warm-up: jieba, mappers, the directory, the pool.
        post_messages(client, 0, WARM_UP)
        drain(rt)

        post_messages(client, WARM_UP, messages)
        statements = [0]
        count = lambda *_: statements.__setitem__(0, statements[0] + 1)  # noqa: E731
        sa.event.listen(rt.db.engine, "before_cursor_execute", count)
        pg_before = backend_cpu_seconds(watcher)
        done, cpu, wall = drain(rt)
        pg_cpu = backend_cpu_seconds(watcher) - pg_before
        sa.event.remove(rt.db.engine, "before_cursor_execute", count)

        post_messages(client, WARM_UP + messages, profiled)
        profile = cProfile.Profile(time.process_time)  # CPU time, not time spent waiting on PostgreSQL
        profile.enable()
        drain(rt)
        profile.disable()

        with watcher.connect() as conn:
            opened = conn.execute(sa.text("SELECT count(*) FROM inbound_messages WHERE outcome = 'case_opened'")).scalar()
            total = conn.execute(sa.text("SELECT count(*) FROM inbound_messages")).scalar()
            receipts = conn.execute(sa.text("SELECT count(*) FROM outbound_messages WHERE kind = 'receipt'")).scalar()
        watcher.dispose()
        rt.close()

    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    cumulative = io.StringIO()
    pstats.Stats(profile, stream=cumulative).sort_stats("cumulative").print_stats(top)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return {
        "tree": commit or str(ROOT), "messages": done, "cases_opened": opened, "stored": total, "receipts": receipts,
        "worker_cpu_ms_per_case": cpu / done * 1000, "wall_ms_per_case": wall / done * 1000,
        "postgres_cpu_ms_per_case": pg_cpu / done * 1000,
        "statements_per_case": statements[0] / done, "cases_per_s_one_worker": done / wall,
        "profile_tottime": _trim(out.getvalue()), "profile_cumulative": _trim(cumulative.getvalue()),
    }


def _trim(text: str) -> str:
    """The stats table without pstats' preamble, paths shortened to the project or package."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().startswith("ncalls")), 0)
    keep = [re.sub(r"\S*/(site-packages|lib/python3\.\d+)/", "", line.replace(str(ROOT) + "/", "")).rstrip()
            for line in lines[start:]]
    return "\n".join(line for line in keep if line)


def print_result(r: dict) -> None:
    print(f"\n== tree {r['tree']}: {r['messages']} new cases drained by one worker (drain_inbox, in-process)")
    print(f"worker CPU per case    {r['worker_cpu_ms_per_case']:.2f} ms")
    print(f"PostgreSQL CPU per case {r['postgres_cpu_ms_per_case']:.2f} ms (backend processes)")
    print(f"statements per case    {r['statements_per_case']:.1f} (SQL statements the worker sent, each a round trip)")
    print(f"wall per case          {r['wall_ms_per_case']:.2f} ms  ({r['cases_per_s_one_worker']:.0f} cases/s, one worker)")
    print(f"check: stored {r['stored']}, case_opened {r['cases_opened']}, receipts {r['receipts']}")
    print("\ncProfile (CPU time), sorted by own time (tottime):\n" + r["profile_tottime"])
    print("\ncProfile (CPU time), sorted by cumulative time:\n" + r["profile_cumulative"])


def run_tree(tree: Path, args) -> dict:
    """This script, run on another source tree, as a child process; its JSON result. The harness
    (this file and bench/common.py) is the current one on both trees: only the product differs."""
    script = tree / "bench" / "intake_cpu.py"
    here = Path(__file__).resolve().parent
    if tree.resolve() != ROOT:
        for name in ("intake_cpu.py", "common.py"):
            (tree / "bench" / name).write_text((here / name).read_text(encoding="utf-8"), encoding="utf-8")
    out = subprocess.run([sys.executable, str(script), "--json", "--messages", str(args.messages),
                          "--profiled", str(args.profiled), "--top", str(args.top)],
                         cwd=tree, env=dict(os.environ, PYTHONPATH=str(tree)), capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"run on {tree} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=400, help="new cases measured without the profiler")
    parser.add_argument("--profiled", type=int, default=200, help="new cases drained under cProfile")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--compare", metavar="REV", help="first run the same benchmark on git revision REV")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.compare:
        with tempfile.TemporaryDirectory() as tmp:
            archive = subprocess.run(["git", "archive", args.compare], cwd=ROOT, capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
            old = run_tree(Path(tmp), args)
        old["tree"] = args.compare
        new = run_tree(ROOT, args)
        for r in (old, new):
            print_result(r)
        print("\n| tree | worker CPU ms/case | PostgreSQL CPU ms/case | statements/case | wall ms/case | cases/s (1 worker) |")
        print("|---|---|---|---|---|---|")
        for r in (old, new):
            print(f"| {r['tree']} | {r['worker_cpu_ms_per_case']:.2f} | {r['postgres_cpu_ms_per_case']:.2f} | "
                  f"{r['statements_per_case']:.1f} | {r['wall_ms_per_case']:.2f} | {r['cases_per_s_one_worker']:.0f} |")
        return
    result = measure(args.messages, args.profiled, args.top)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print_result(result)


if __name__ == "__main__":
    main()
