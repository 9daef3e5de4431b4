"""The production topology on one machine, under load, while workers die: two `gridline serve`,
three `gridline worker` and two `gridline scheduler` against one PostgreSQL (through PgBouncer in
transaction mode when it is installed) and one Redis. A bounded loop of signed SMS (some sent
twice, as Twilio retries) goes to both web servers; meanwhile one worker is killed outright and
restarted, and another is stopped gracefully and restarted. Every message is counted: one case
each, one receipt each, none lost, none doubled.

Slow (a minute or two): `make soak` runs it, and .ci/run calls `make soak` on PostgreSQL.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from tests.conftest import BACKEND, TEST_REDIS, process_env
from tests.test_imports import run
from tests.test_topology_config import free_port, wait_port

pytestmark = [
    pytest.mark.soak,
    pytest.mark.skipif(BACKEND != "postgresql" or not (TEST_REDIS or "").startswith("redis://"),
                       reason="the multi-process topology runs on PostgreSQL and a TCP Redis"),
]
MESSAGES = 300
RETRIED = 30          # sent a second time with the same MessageSid
REPORTS = ["小区门口路灯坏了一个星期", "楼上卫生间漏水，天花板一直滴水", "公司拖欠工资三个月了", "河道里有死鱼，水发黑发臭",
           "晚上广场舞噪音太大影响休息", "村东头两伙人打起来了", "家里老人想申请低保", "拆迁补偿款一直不到位"]


def phone_of(i: int) -> str:
    return f"+86137{8800000 + i:08d}"[:14]


@contextmanager
def pgbouncer(database_url: str):
    """PgBouncer in transaction mode in front of the test database; yields the URL through it, or
    the direct URL when PgBouncer is not installed."""
    binary = shutil.which("pgbouncer")
    if binary is None:
        yield database_url, False
        return
    parts = urlsplit(database_url)
    folder = Path(tempfile.mkdtemp(prefix="gridline-pgbouncer-"))
    port = free_port()
    (folder / "users.txt").write_text(f'"{parts.username}" ""\n')
    (folder / "pgbouncer.ini").write_text(f"""[databases]
gridline = host={parts.hostname} port={parts.port or 5432} dbname={parts.path.lstrip('/')} user={parts.username}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder}/users.txt
pool_mode = transaction
default_pool_size = 8
max_client_conn = 300
ignore_startup_parameters = extra_float_digits
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
""")
    command = [binary, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        shutil.chown(folder, "postgres")
        for f in folder.iterdir():
            shutil.chown(f, "postgres")
        command = ["runuser", "-u", "postgres", "--"] + command
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, process, 15, "pgbouncer did not start")
        yield f"postgresql+psycopg://{parts.username}@127.0.0.1:{port}/gridline", True
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


class Topology:
    def __init__(self, environ: dict, log_dir: Path):
        self.environ, self.log_dir = environ, log_dir
        self.exe = [sys.executable, "-m", "gateway.cli"]
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *args: str) -> None:
        log = open(self.log_dir / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen(self.exe + list(args), env=self.environ, stdout=log, stderr=log,
                                            start_new_session=True)

    def stop_all(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


def wait_http(port: int, deadline: float) -> None:
    while True:
        try:
            # Any answer means the server is up: /healthz says 503 until a worker's heartbeat lands.
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code in (200, 503):
                return
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, f"serve on {port} did not come up"
        time.sleep(0.2)


def residents(rt, count: int) -> None:
    from models.imports import import_rows

    with rt.db.session() as session:
        rows = [(i + 2, {"phone": phone_of(i), "name": "居民", "area_code": "DH-S1-C1-G1", "address": ""})
                for i in range(count)]
        assert not import_rows(session, "residents", rows).rejected


def send_load(ports: list[int], token: str, progress: list[int]) -> list[int]:
    """Signed SMS to both servers from four threads; returns the HTTP statuses."""
    validator = RequestValidator(token)
    plan = [(i, f"SM{i:032x}") for i in range(MESSAGES)]
    plan += [(i, f"SM{i:032x}") for i in random.Random(7).sample(range(MESSAGES), RETRIED)]  # Twilio retries
    statuses: list[int] = []

    def sender(k: int) -> None:
        session = requests.Session()
        for n in range(k, len(plan), 4):
            i, sid = plan[n]
            port = ports[n % len(ports)]
            url = f"http://127.0.0.1:{port}/twilio/sms"
            params = {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": phone_of(i), "To": "+8610690012345",
                      "Body": REPORTS[i % len(REPORTS)], "NumMedia": "0"}
            for _attempt in range(5):  # as Twilio does on a connect failure
                try:
                    r = session.post(url, data=params, timeout=15,
                                     headers={"X-Twilio-Signature": validator.compute_signature(url, params)})
                    statuses.append(r.status_code)
                    break
                except requests.ConnectionError:
                    time.sleep(0.5)
            progress[0] += 1
            time.sleep(0.01)

    threads = [threading.Thread(target=sender, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def test_two_web_three_workers_two_schedulers_lose_and_double_nothing_while_workers_die(app, rt, demo, settings,
                                                                                       tmp_path):
    residents(rt, MESSAGES)
    with pgbouncer(settings.database_url) as (database_url, bounced):
        environ = dict(process_env(settings), GRIDLINE_DATABASE_URL=database_url, GRIDLINE_DB_POOL_SIZE="2",
                       GRIDLINE_DB_MAX_OVERFLOW="2", GRIDLINE_PGBOUNCER="1" if bounced else "0")
        topology = Topology(environ, tmp_path)
        ports = [free_port(), free_port()]
        try:
            for n, port in enumerate(ports):
                topology.start(f"serve{n}", "serve", "--port", str(port), "--workers", "1")
            for n in range(3):
                topology.start(f"worker{n}", "worker")
            for n in range(2):
                topology.start(f"scheduler{n}", "scheduler")
            deadline = time.monotonic() + 90
            for port in ports:
                wait_http(port, deadline)

            progress = [0]
            statuses: list[int] = []
            load = threading.Thread(target=lambda: statuses.extend(send_load(ports, settings.twilio_auth_token, progress)))
            load.start()
            total = MESSAGES + RETRIED
            while progress[0] < total // 3:
                time.sleep(0.05)
            topology.procs["worker0"].send_signal(signal.SIGKILL)        # a host lost mid-job
            topology.procs["worker0"].wait(timeout=10)
            topology.start("worker0", "worker")
            while progress[0] < 2 * total // 3:
                time.sleep(0.05)
            topology.procs["worker1"].send_signal(signal.SIGTERM)        # a deploy: graceful stop
            assert topology.procs["worker1"].wait(timeout=60) == 0, "graceful stop did not finish in time"
            topology.start("worker1", "worker")
            topology.procs["scheduler0"].send_signal(signal.SIGKILL)     # one scheduler gone: the other ticks
            load.join(timeout=120)
            assert not load.is_alive()
            assert statuses.count(200) == total, {s: statuses.count(s) for s in set(statuses)}

            # Every message processed, the killed worker's popped ones by the inbound sweep.
            deadline = time.monotonic() + 150
            with rt.db.engine.connect() as conn:
                while True:
                    waiting = conn.execute(sa.text("SELECT count(*) FROM inbound_messages WHERE status = 'received'")).scalar()
                    conn.commit()
                    if not waiting:
                        break
                    assert time.monotonic() < deadline, f"{waiting} messages never processed"
                    time.sleep(1)
            status = json.loads(run(app, "status", "--json").output)
        finally:
            topology.stop_all()

    with rt.db.engine.connect() as conn:
        q = lambda sql: conn.execute(sa.text(sql)).all()  # noqa: E731
        assert q("SELECT count(*) FROM inbound_messages") == [(MESSAGES,)]          # retries stored once
        assert q("SELECT outcome, count(*) FROM inbound_messages GROUP BY outcome") == [("case_opened", MESSAGES)]
        assert q("SELECT count(*), count(DISTINCT reporter_phone) FROM cases") == [(MESSAGES, MESSAGES)]
        assert q("SELECT count(DISTINCT case_id) FROM inbound_messages") == [(MESSAGES,)]
        # One receipt per case, to its reporter; none doubled by a retried job.
        assert q("""SELECT count(*) FROM (SELECT c.id FROM cases c LEFT JOIN outbound_messages o
                    ON o.case_id = c.id AND o.kind = 'receipt' AND o."to" = c.reporter_phone
                    GROUP BY c.id HAVING count(o.id) <> 1) AS wrong""") == [(0,)]
        assert q("SELECT count(*) FROM outbound_messages WHERE status = 'failed'") == [(0,)]
    assert status["inbound"]["count"] == 0 and status["errors"] == {}
    assert status["stages"]["received"]["count"] == MESSAGES
