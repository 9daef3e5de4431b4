"""Issue 10: faults injected while SMS keep arriving, counted at the end.

A real `gridline worker` process (Twilio provider, against a local Twilio stand-in) and a real
`gridline scheduler` run while signed SMS arrive in batches. The worker reaches Redis, and on
PostgreSQL the database too, through TCP proxies the test can cut. In turn:
  1. the worker is killed with SIGKILL while a batch is being worked;
  2. Redis is unreachable for the worker for 20 s: the worker must live through it;
  3. (PostgreSQL) the database is unreachable for the worker for 10 s;
  4. the worker is killed during a provider call that Twilio has taken but not answered.
Then every message must end in exactly one case and one receipt, every SMS must reach Twilio
exactly once, and nothing may be left waiting.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from models import Case, InboundMessage, OutboundMessage
from tests.conftest import BACKEND
from tests.twilio_stub import TwilioStub

ACCOUNT = "AC" + "2" * 32
BATCH = 8


class Proxy:
    """A TCP proxy on 127.0.0.1 that can be cut (open connections reset, new ones refused)."""

    def __init__(self, target):
        self.target = target  # (host, port) or a unix socket path
        self.up = True
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _upstream(self) -> socket.socket:
        if isinstance(self.target, str):
            upstream = socket.socket(socket.AF_UNIX)
        else:
            upstream = socket.socket()
        upstream.connect(self.target)
        return upstream

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            try:
                upstream = self._upstream()
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        self.up = False
        with self.lock:
            conns, self.conns = self.conns, []
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            except OSError:
                pass

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.server.close()


def _redis_target(url: str):
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path, "0"
    return (parts.hostname, parts.port or 6379), (parts.path.strip("/") or "0")


@pytest.mark.e2e
@pytest.mark.timeout(240)
def test_no_message_lost_doubled_or_stuck_across_faults(phone, rt, demo, settings):
    stub = TwilioStub()
    redis_target, redis_db = _redis_target(settings.redis_url)
    redis_proxy = Proxy(redis_target)
    db_url = settings.database_url
    db_proxy = None
    if BACKEND == "postgresql":
        parsed = urlsplit(db_url)
        db_proxy = Proxy((parsed.hostname, parsed.port or 5432))
        db_url = db_url.replace(f"{parsed.hostname}:{parsed.port or 5432}", f"127.0.0.1:{db_proxy.port}")
    base_env = dict(os.environ, GRIDLINE_INSTANCE_PATH=str(settings.instance_path), GRIDLINE_SECRET_KEY="test-secret",
                    GRIDLINE_LOG_LEVEL="WARNING", GRIDLINE_SMS_PROVIDER="twilio", TWILIO_ACCOUNT_SID=ACCOUNT,
                    TWILIO_AUTH_TOKEN="tok", GRIDLINE_TWILIO_API_BASE=stub.url)
    worker_env = dict(base_env, GRIDLINE_DATABASE_URL=db_url,
                      GRIDLINE_REDIS_URL=f"redis://127.0.0.1:{redis_proxy.port}/{redis_db}")
    scheduler_env = dict(base_env, GRIDLINE_DATABASE_URL=settings.database_url, GRIDLINE_REDIS_URL=settings.redis_url)
    processes: list[subprocess.Popen] = []

    def start(command: str, env: dict) -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, "-m", "gateway.cli", command], env=env, start_new_session=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(process)
        return process

    def kill(process: subprocess.Popen) -> None:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # the worker and the RQ scheduler it forked
        except ProcessLookupError:
            pass
        process.wait(timeout=10)

    sent: list[str] = []

    def batch(label: str, size: int = BATCH) -> None:
        for i in range(size):
            number = f"+86139{len(sent):08d}"  # unregistered: one triage case and one receipt each
            phone.text(number, f"{label}：小区门口路灯坏了第{i}盏", drain=False)
            sent.append(number)

    def count(model, *where) -> int:
        with rt.db.session() as session:
            return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))

    def wait_for(condition, seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            assert time.monotonic() < deadline, f"timed out: {what}"
            time.sleep(0.2)

    started = time.monotonic()
    try:
        start("scheduler", scheduler_env)
        worker = start("worker", worker_env)

        # 1. killed while a batch is being worked
        batch("杀进程")
        wait_for(lambda: count(Case) >= 2, 60, "the first worker took work")
        kill(worker)
        worker = start("worker", worker_env)

        # 2. Redis away for 20 s: the worker lives through it and carries on
        redis_proxy.cut()
        batch("Redis中断")
        time.sleep(20)
        assert worker.poll() is None, "the worker exited while Redis was away"
        redis_proxy.restore()

        # 3. the database away for 10 s (PostgreSQL: a proxy; SQLite has no server to lose)
        if db_proxy is not None:
            db_proxy.cut()
            batch("数据库中断")
            time.sleep(10)
            assert worker.poll() is None, "the worker exited while the database was away"
            db_proxy.restore()

        # 4. killed during a provider call Twilio took but never answered
        wait_for(lambda: count(InboundMessage, InboundMessage.status == "received") == 0, 60, "backlog worked off")
        stub.hold.set()
        held_before = len(stub.messages)
        batch("发送中断", 2)
        wait_for(lambda: len(stub.messages) > held_before, 60, "a send reached Twilio")
        time.sleep(0.3)
        kill(worker)
        stub.hold.clear()
        worker = start("worker", worker_env)

        def settled() -> bool:
            return (count(InboundMessage, InboundMessage.status == "received") == 0
                    and count(OutboundMessage, OutboundMessage.status.in_(("pending", "sending"))) == 0)

        wait_for(settled, 90, "every message processed and every SMS settled")
    finally:
        for process in processes:
            if process.poll() is None:
                kill(process)
        redis_proxy.close()
        if db_proxy is not None:
            db_proxy.close()
        stub.close()
    elapsed = time.monotonic() - started

    with rt.db.session() as session:
        inbound = session.scalars(sa.select(InboundMessage)).all()
        assert len(inbound) == len(sent) and {m.status for m in inbound} == {"processed"}
        cases = session.scalars(sa.select(Case)).all()
        assert sorted(c.reporter_phone for c in cases) == sorted(sent)  # one case each: none lost, none doubled
        receipts = session.scalars(sa.select(OutboundMessage).where(OutboundMessage.kind == "receipt")).all()
        assert sorted(r.to for r in receipts) == sorted(sent)
        outbound = session.scalars(sa.select(OutboundMessage).where(OutboundMessage.status != "held")).all()
        assert all(m.status in ("queued", "sent", "suppressed") for m in outbound), {m.status for m in outbound}
        handed = [m for m in outbound if m.status != "suppressed"]
    # Every SMS reached Twilio exactly once, under the SID we recorded.
    taken = [(m["to"], m["body"]) for m in stub.messages]
    assert len(taken) == len(set(taken)), "an SMS reached Twilio twice"
    assert sorted(m["sid"] for m in stub.messages) == sorted(m.provider_sid for m in handed)
    print(f"faults: {len(sent)} SMS, {len(cases)} cases, {len(handed)} sent, {elapsed:.0f} s")
