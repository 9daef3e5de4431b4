"""Shared set-up for the benchmarks: a fresh PostgreSQL database and Redis, demo data plus
bench residents, and process helpers. Nothing here runs in the test suite."""
from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg
import redis
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_ADMIN = os.environ.get("GRIDLINE_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASE_URL = os.environ.get("GRIDLINE_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/gridline_bench")
REDIS_URL = os.environ.get("GRIDLINE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
AUTH_TOKEN = "bench-token"

REPORTS = [
    "村东头两伙人打起来了，快来人", "小区门口路灯坏了一个星期，晚上很黑", "楼上卫生间漏水，天花板一直滴水",
    "公司拖欠工资三个月了，老板不见人", "想申请法律援助，借钱不还要打官司", "拆迁补偿款一直不到位，准备去上访",
    "河道里有死鱼，水发黑发臭", "菜市场有人缺斤短两", "孩子入学的事情想咨询一下学区", "家里老人想申请低保",
    "晚上广场舞噪音太大影响休息", "公交站台的顶棚塌了", "卫生院看病排队太久", "有人在路边焚烧垃圾",
]


def env(**extra) -> dict:
    return dict(os.environ, GRIDLINE_DATABASE_URL=DATABASE_URL, GRIDLINE_REDIS_URL=REDIS_URL,
                TWILIO_AUTH_TOKEN=AUTH_TOKEN, GRIDLINE_SECRET_KEY="bench", GRIDLINE_LOG_LEVEL="WARNING", **extra)


def bench_phone(i: int) -> str:
    return f"+86137{5710000 + i:08d}"[:14]


def reset_database(residents: int = 5000) -> None:
    """Drop and recreate the bench database schema, load the demo district and bench residents."""
    name = DATABASE_URL.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    from models.db import Database
    from models.imports import import_rows, read_rows
    from models.team import STOCK_TEAM_KINDS

    db = Database(DATABASE_URL)
    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    db.upgrade()
    demo = ROOT / "models" / "demo"
    with db.session() as session:
        for kind in ("areas", "teams", "members", "residents"):
            import_rows(session, kind, read_rows(kind, demo / f"{kind}.csv"), STOCK_TEAM_KINDS)
        grids = [r["code"] for _, r in read_rows("areas", demo / "areas.csv") if r["level"] == "grid"]
        rows = [(i + 2, {"phone": bench_phone(i), "name": "测试居民", "area_code": random.choice(grids), "address": ""})
                for i in range(residents)]
        report = import_rows(session, "residents", rows)
        assert not report.rejected, report.rejected[:3]
    db.dispose()
    redis.Redis.from_url(REDIS_URL).flushdb()


def cpu_seconds(pids) -> float:
    """User + system CPU so far of processes on this machine (from /proc), summed."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def processes(*commands: list[str], environ: dict):
    procs = [subprocess.Popen(cmd, env=environ, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for cmd in commands]
    try:
        yield procs
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()


def gunicorn(port: int, workers: int, worker_class: str = "sync", threads: int = 1) -> list[str]:
    cmd = [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", str(workers), "-k", worker_class,
           "--log-level", "warning", "--backlog", "2048"]
    if worker_class == "gthread":
        cmd += ["--threads", str(threads)]
    return cmd + ["gateway.wsgi:app"]


def wait_http(port: int, timeout: float = 30) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            # The web process is up when it answers; 503 here only says no worker runs yet.
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code in (200, 503):
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not come up")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def table(headers: list[str], rows: list[list]) -> str:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    return "\n".join([line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows])
