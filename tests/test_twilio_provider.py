"""Outbound SMS through twilio-python against a local Twilio stand-in: status callback URL,
backoff on 429/5xx/network errors, no retry on final errors, 21610 opts the number out, and
interrupted sends settled with Twilio before any resend."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from models import OptOut, OutboundMessage, utcnow
from tests.conftest import RESIDENT_G1, Phone, drain_queues, outbox
from tests.twilio_stub import TwilioStub
from twilio.request_validator import RequestValidator
from workers.jobs.sweeps import SENDING_STALLED, sweep_outbound

ACCOUNT = "AC" + "1" * 32


@pytest.fixture
def stub():
    stub = TwilioStub()
    yield stub
    stub.close()


@pytest.fixture
def twilio_rt(settings, stub, monkeypatch, database_url):
    from gateway import create_app
    from tests.conftest import _empty_tables
    from workers import runtime

    monkeypatch.setenv("GRIDLINE_TWILIO_API_BASE", stub.url)
    twilio_settings = settings.replace(sms_provider="twilio", twilio_account_sid=ACCOUNT, twilio_auth_token="tok",
                                       public_url="https://gridline.example.gov.cn")
    app = create_app(twilio_settings)
    rt = app.extensions["gridline"]
    _empty_tables(rt.db)
    rt.redis.flushdb()
    from tests.conftest import DEMO
    from models.imports import import_rows, read_rows
    from models.team import STOCK_TEAM_KINDS

    with rt.db.session() as session:
        for kind in ("areas", "teams", "members", "residents"):
            import_rows(session, kind, read_rows(kind, DEMO / f"{kind}.csv"), STOCK_TEAM_KINDS)
    rt.phone = Phone(app.test_client(), twilio_settings, rt)
    validator = RequestValidator("tok")  # Twilio signs the public URL
    rt.phone.sign = lambda url, params: validator.compute_signature(
        url.replace("http://localhost", "https://gridline.example.gov.cn"), params)
    yield rt
    runtime.reset()


def test_messages_go_to_twilio_with_a_status_callback(twilio_rt, stub):
    twilio_rt.phone.text(RESIDENT_G1, "小区门口路灯坏了")
    sent = outbox(twilio_rt)
    assert sent and all(m.status == "queued" and m.provider_sid.startswith("SM") for m in sent)
    assert len(stub.requests) == len(sent)
    receipt = next(r for r in stub.requests if r["form"]["To"] == RESIDENT_G1)
    assert receipt["path"] == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    assert receipt["form"]["StatusCallback"] == "https://gridline.example.gov.cn/twilio/sms/status"
    assert receipt["form"]["Body"].startswith("【网格通】您反映的问题已受理")
    assert receipt["form"]["From"] == twilio_rt.settings.short_number


def _resident_receipt_after(twilio_rt, stub, *failures):
    for failure in failures:
        stub.fail_next(*failure)
    twilio_rt.phone.text(RESIDENT_G1, "查询")  # one reply: the first request is the resident's
    [reply] = outbox(twilio_rt, to=RESIDENT_G1)
    return reply


def _retry_due(twilio_rt, message_id):
    from workers.jobs.sweeps import sweep_outbound

    with twilio_rt.db.session() as session:
        session.get(OutboundMessage, message_id).next_attempt_at -= timedelta(hours=2)
    assert sweep_outbound() == 1
    drain_queues(twilio_rt)
    with twilio_rt.db.session() as session:
        return session.get(OutboundMessage, message_id)


@pytest.mark.parametrize("failure", [(429, 20429, "Too Many Requests"), (503, None, "Service Unavailable")])
def test_throttling_and_server_errors_are_retried_with_backoff(twilio_rt, stub, failure):
    reply = _resident_receipt_after(twilio_rt, stub, failure)
    assert reply.status == "pending" and reply.attempts == 1
    assert timedelta(seconds=5) < reply.next_attempt_at - reply.updated_at <= timedelta(seconds=15)
    reply = _retry_due(twilio_rt, reply.id)
    assert reply.status == "queued" and reply.attempts == 2
    assert len(stub.requests) == 2


def _drop_provider(rt):
    """The next send builds a provider from the current environment."""
    provider = rt.__dict__.pop("provider", None)
    if provider is not None:
        provider.close()


def test_network_error_is_retried(twilio_rt, stub, monkeypatch):
    monkeypatch.setenv("GRIDLINE_TWILIO_API_BASE", "http://127.0.0.1:1")  # nothing listens
    _drop_provider(twilio_rt)
    reply = _resident_receipt_after(twilio_rt, stub)
    assert reply.status == "pending" and reply.error.startswith("network")
    monkeypatch.setenv("GRIDLINE_TWILIO_API_BASE", stub.url)
    _drop_provider(twilio_rt)
    assert _retry_due(twilio_rt, reply.id).status == "queued"


def test_21610_marks_opted_out_and_is_not_retried(twilio_rt, stub):
    reply = _resident_receipt_after(twilio_rt, stub, (400, 21610, "Attempt to send to unsubscribed recipient"))
    assert (reply.status, reply.error_code) == ("failed", "21610")
    with twilio_rt.db.session() as session:
        assert session.get(OptOut, RESIDENT_G1) is not None
    from workers.jobs.sweeps import sweep_outbound

    assert sweep_outbound(grace_seconds=0) == 0
    assert len(stub.requests) == 1
    twilio_rt.phone.text(RESIDENT_G1, "查询")  # opted out: nothing more is sent
    assert outbox(twilio_rt, to=RESIDENT_G1)[-1].status == "suppressed"
    assert len(stub.requests) == 1


@pytest.mark.parametrize("code", [30005, 30006, 30007])
def test_final_errors_are_not_retried(twilio_rt, stub, code):
    reply = _resident_receipt_after(twilio_rt, stub, (400, code, "undeliverable"))
    assert (reply.status, reply.error_code, reply.next_attempt_at) == ("failed", str(code), None)


def test_gives_up_after_the_last_backoff(twilio_rt, stub):
    from workers.providers import BACKOFF_SECONDS

    reply = _resident_receipt_after(twilio_rt, stub, *[(500, None, "boom")] * len(BACKOFF_SECONDS))
    for _ in range(len(BACKOFF_SECONDS) - 2):
        reply = _retry_due(twilio_rt, reply.id)
        assert reply.status == "pending"
    reply = _retry_due(twilio_rt, reply.id)
    assert reply.status == "failed" and f"已重试 {len(BACKOFF_SECONDS)} 次" in reply.error


# -- issue 10, finding 7: a send interrupted during the provider call is settled by asking the
# provider before any resend, and noticed in seconds, not five minutes.
def _interrupted(rt, stub, took_it: bool) -> OutboundMessage:
    """The resident's receipt as a worker killed during the call leaves it: 'sending', no SID;
    Twilio has it or not."""
    rt.phone.text(RESIDENT_G1, "小区门口路灯坏了", drain=False)
    from rq import Queue, SimpleWorker

    from workers.queues import INBOUND

    SimpleWorker([Queue(INBOUND, connection=rt.redis)], connection=rt.redis).work(burst=True)  # cases, not sends
    rt.redis.flushdb()  # the send job dies with its worker
    [receipt] = outbox(rt, to=RESIDENT_G1, kind="receipt")
    with rt.db.session() as session:
        row = session.get(OutboundMessage, receipt.id)
        row.status, row.attempts = "sending", 1
        row.updated_at = utcnow() - SENDING_STALLED - timedelta(seconds=1)
        session.execute(sa.update(OutboundMessage).where(OutboundMessage.id != receipt.id, OutboundMessage.status == "pending")
                        .values(status="suppressed"))  # only the receipt matters here
    if took_it:
        stub.messages.append({"sid": "SM" + "7" * 32, "status": "sent", "to": RESIDENT_G1,
                              "from": rt.settings.short_number, "body": receipt.body, "num_segments": "1",
                              "date_created": "Mon, 30 Nov 2099 00:00:00 GMT"})
    return receipt


def test_interrupted_send_that_twilio_took_is_recorded_not_resent(twilio_rt, stub):
    receipt = _interrupted(twilio_rt, stub, took_it=True)
    assert sweep_outbound() == 1
    drain_queues(twilio_rt)
    [row] = outbox(twilio_rt, to=RESIDENT_G1, kind="receipt")
    assert row.id == receipt.id and row.status == "sent" and row.provider_sid == "SM" + "7" * 32
    assert stub.sends() == []  # asked, not sent again
    assert any(r.get("query", {}).get("To") == RESIDENT_G1 for r in stub.requests)


def test_interrupted_send_that_twilio_never_got_is_sent_once(twilio_rt, stub):
    _interrupted(twilio_rt, stub, took_it=False)
    assert sweep_outbound() == 1
    drain_queues(twilio_rt)
    [row] = outbox(twilio_rt, to=RESIDENT_G1, kind="receipt")
    assert row.status == "queued" and row.provider_sid
    assert [r["form"]["To"] for r in stub.sends()] == [RESIDENT_G1]
    assert sweep_outbound() == 0  # settled for good


def test_a_send_still_in_its_call_is_left_alone(twilio_rt, stub):
    receipt = _interrupted(twilio_rt, stub, took_it=False)
    with twilio_rt.db.session() as session:
        session.get(OutboundMessage, receipt.id).updated_at = utcnow()  # the call began just now
    assert sweep_outbound() == 0
