"""Backpressure an operator can see: /metrics (Prometheus text), `gridline status` and the
admins' panel on the dashboard show what waits, for how long, what each stage did and which
workers are alive."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import RESIDENT_G1, RESIDENT_G1_B, RESIDENT_XINHE, process_env
from tests.test_console_api import login, users  # noqa: F401  (fixture)
from tests.test_imports import run


def scrape(client) -> dict[tuple, float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.data.decode()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def test_metrics_show_messages_waiting_then_the_stages_that_handled_them(phone, client, clock, demo):
    for sender in (RESIDENT_G1, RESIDENT_G1_B, RESIDENT_XINHE):
        phone.text(sender, "小区门口路灯坏了一个星期", drain=False)
    clock.advance(seconds=42)  # nobody has worked on them for 42 s

    before = scrape(client)
    assert before[("gridline_waiting_messages", (("direction", "inbound"),))] == 3
    assert before[("gridline_oldest_waiting_seconds", (("direction", "inbound"),))] >= 42
    assert before[("gridline_queue_depth", (("queue", "inbox"),))] == 3
    assert before[("gridline_received_total", ())] == 3
    assert before[("gridline_source_up", (("source", "database"),))] == 1

    phone.drain()
    after = scrape(client)
    assert after[("gridline_waiting_messages", (("direction", "inbound"),))] == 0
    assert after[("gridline_oldest_waiting_seconds", (("direction", "inbound"),))] == 0
    assert after[("gridline_queue_depth", (("queue", "inbox"),))] == 0
    assert after[("gridline_intake_total", ())] == 3
    # The three waited at least 42 s between the webhook and the worker: none within 30 s.
    assert after[("gridline_intake_latency_seconds_count", ())] == 3
    assert after[("gridline_intake_latency_seconds_bucket", (("le", "30.0"),))] == 0
    assert after[("gridline_intake_latency_seconds_bucket", (("le", "60.0"),))] == 3
    assert after[("gridline_intake_latency_seconds_sum", ())] >= 3 * 42
    # Every receipt and team notice went out through the send stage.
    assert after[("gridline_send_total", ())] >= 6
    assert after[("gridline_waiting_messages", (("direction", "outbound"),))] == 0


def test_status_command_names_queues_oldest_message_and_workers(app, phone, clock, demo):
    phone.text(RESIDENT_G1, "楼上卫生间漏水", drain=False)
    clock.advance(minutes=3)
    result = run(app, "status")
    assert result.exit_code == 0, result.output
    assert "待处理来信：1 条，最早已等 3.0 分钟" in result.output
    assert "队列：inbox 1" in result.output
    assert "在线 worker：0" in result.output

    data = json.loads(run(app, "status", "--json").output)
    assert data["queues"]["inbox"] == 1
    assert data["inbound"]["count"] == 1 and data["inbound"]["oldest_seconds"] >= 180
    assert data["live_workers"] == 0 and data["workers"] == []
    assert data["errors"] == {}


def test_a_running_worker_is_listed_live_and_leaves_the_list_when_stopped(app, settings, rt):
    env = process_env(settings)
    worker = subprocess.Popen([sys.executable, "-m", "gateway.cli", "worker"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            data = json.loads(run(app, "status", "--json").output)
            if data["live_workers"] and data["workers"][0]["state"] == "idle":  # registered, then waiting for work
                break
            assert worker.poll() is None, "worker exited"
            assert time.monotonic() < deadline, "the worker never showed up as live"
            time.sleep(0.2)
        [beat] = data["workers"]
        assert beat["pid"] == worker.pid and beat["state"] == "idle"
        assert beat["queues"] == ["inbound", "outbound", "sweeps"]
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
        assert json.loads(run(app, "status", "--json").output)["live_workers"] == 0
    finally:
        if worker.poll() is None:
            worker.kill()


def test_status_names_a_source_that_does_not_answer(app, rt, monkeypatch):
    import redis

    def down(*_a, **_k):
        raise redis.ConnectionError("down")

    monkeypatch.setattr(type(rt.redis), "pipeline", down)
    result = run(app, "status")
    assert result.exit_code == 1
    assert "无法读取 redis：ConnectionError" in result.output
    assert "待处理来信：0 条" in result.output  # the database still answers


def test_admins_see_the_pipeline_panel_on_the_dashboard_and_operators_do_not(app, users, phone):  # noqa: F811
    phone.text(RESIDENT_G1, "路灯坏了", drain=False)
    admin = app.test_client()
    login(admin, "admin")
    page = admin.get("/console/dashboard").data.decode()
    assert 'id="pipeline"' in page and "运行状态" in page
    assert '<div class="figure" id="inbound-waiting">1</div>' in page
    operator = app.test_client()
    login(operator, "operator")
    assert 'id="pipeline"' not in operator.get("/console/dashboard").data.decode()
