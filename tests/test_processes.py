"""The processes as a user runs them: `gridline dev` serves, works and stops cleanly."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from tests.conftest import RESIDENT_G1


@pytest.mark.e2e
def test_dev_serves_processes_and_stops_its_children_on_sigterm(settings, tmp_path, demo, rt):
    from werkzeug.serving import select_address_family  # noqa: F401  (werkzeug present)
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, GRIDLINE_INSTANCE_PATH=str(settings.instance_path), GRIDLINE_DATABASE_URL=settings.database_url,
               GRIDLINE_REDIS_URL=settings.redis_url, GRIDLINE_SECRET_KEY="test-secret")
    dev = subprocess.Popen([sys.executable, "-m", "gateway.cli", "dev", "--port", str(port)], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "gridline dev did not come up"
            time.sleep(0.2)
        result = subprocess.run([sys.executable, "-m", "gateway.cli", "sms", "simulate", "--url",
                                 f"http://127.0.0.1:{port}", "--from", RESIDENT_G1, "路灯坏了"],
                                env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        from tests.conftest import outbox

        deadline = time.monotonic() + 20
        while not outbox(rt, to=RESIDENT_G1, kind="receipt"):
            assert time.monotonic() < deadline, "the dev worker never answered"
            time.sleep(0.1)
        dev.send_signal(signal.SIGTERM)
        dev.wait(timeout=30)
        time.sleep(0.5)
        left = subprocess.run(["pgrep", "-s", str(dev.pid)], capture_output=True, text=True).stdout.split()
        assert left == [], f"children left running: {left}"
    finally:
        if dev.poll() is None:
            os.killpg(dev.pid, signal.SIGKILL)


def test_the_embedded_redis_stops_when_asked_and_keeps_its_queues(tmp_path):
    """`gridline dev` stops the embedded server it started: gone when stop() returns, with what
    it held (RQ's queues) back after a restart."""
    from workers.redis_conn import EmbeddedRedis

    embedded = EmbeddedRedis(tmp_path)
    assert embedded.start() is True
    embedded.client().rpush("rq:queue:inbound", "job-1")
    embedded.stop()
    assert not embedded.running() and not embedded.socket.exists()
    assert embedded.start() is True
    assert embedded.client().lrange("rq:queue:inbound", 0, -1) == [b"job-1"]
    embedded.stop()
