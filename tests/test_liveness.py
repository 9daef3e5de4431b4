"""Issue 10, finding 2: /healthz tells whether anyone is working, and how long the oldest
message has waited."""
from __future__ import annotations

import sqlalchemy as sa

from models import InboundMessage
from tests.conftest import RESIDENT_G1
from workers.liveness import Heartbeat


def test_healthz_is_503_when_no_worker_is_alive(client, rt, demo):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["failing"] == ["workers"] and response.json["workers"] == 0
    heartbeat = Heartbeat(rt.redis, "worker")
    heartbeat.beat()
    ok = client.get("/healthz")
    assert ok.status_code == 200 and ok.json["workers"] == 1
    heartbeat.stop()  # a worker that stops takes its heartbeat with it
    assert client.get("/healthz").status_code == 503


def test_healthz_is_503_when_the_oldest_message_waits_too_long(client, rt, demo, phone, clock):
    heartbeat = Heartbeat(rt.redis, "worker")
    heartbeat.beat()
    phone.text(RESIDENT_G1, "路灯坏了", drain=False)
    waiting = client.get("/healthz")
    assert waiting.status_code == 200 and waiting.json["oldest_waiting_seconds"]["inbound"] < 60
    clock.advance(seconds=rt.settings.health_max_wait_seconds + 5)  # nobody processed it
    late = client.get("/healthz")
    assert late.status_code == 503 and late.json["failing"] == ["backlog"]
    assert "inbound" in late.json["checks"]["backlog"]
    phone.drain()
    with rt.db.session() as session:
        assert session.scalar(sa.select(InboundMessage.status)) == "processed"
    assert client.get("/healthz").status_code == 200
    heartbeat.stop()
