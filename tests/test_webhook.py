"""POST /twilio/sms and /twilio/sms/status: signatures, dedupe, malformed input, Redis down."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa
from werkzeug.serving import make_server

from models import InboundMessage, OutboundMessage
from tests.conftest import RESIDENT_G1, cases, drain_queues, outbox


def inbound_rows(rt) -> list[InboundMessage]:
    with rt.db.session() as session:
        return list(session.scalars(sa.select(InboundMessage).order_by(InboundMessage.id)))


def test_valid_signature_stores_and_answers_empty_twiml(phone, rt, demo):
    response = phone.text(RESIDENT_G1, "路灯坏了", drain=False)
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert response.data.decode().endswith("<Response/>")
    [row] = inbound_rows(rt)
    assert row.status == "received" and row.from_phone == RESIDENT_G1 and row.body == "路灯坏了"
    assert row.params["FromCity"] == "宁波"  # every parameter kept, not a fixed list


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl", "forged"])
def test_missing_or_forged_signature_is_403_and_nothing_stored(phone, rt, demo, signature):
    response = phone.post("/twilio/sms", phone.sms_params(RESIDENT_G1, "路灯坏了"), signature=signature)
    assert response.status_code == 403
    assert inbound_rows(rt) == []


def test_signature_over_all_parameters_a_tampered_body_is_rejected(phone, rt, demo):
    params = phone.sms_params(RESIDENT_G1, "路灯坏了")
    signature = phone.sign("http://localhost/twilio/sms", params)
    params["Body"] = "我要上访"
    assert phone.post("/twilio/sms", params, signature=signature).status_code == 403
    params = phone.sms_params(RESIDENT_G1, "路灯坏了")
    signature = phone.sign("http://localhost/twilio/sms", params)
    params["AddedByAttacker"] = "1"
    assert phone.post("/twilio/sms", params, signature=signature).status_code == 403
    assert inbound_rows(rt) == []


def test_public_url_behind_a_proxy_is_what_is_signed(settings, database_url, redis_url):
    from gateway import create_app
    from tests.conftest import Phone
    from workers import runtime

    app = create_app(settings.replace(public_url="https://gridline.example.gov.cn"))
    try:
        phone = Phone(app.test_client(), settings, app.extensions["gridline"])
        params = phone.sms_params(RESIDENT_G1, "路灯坏了")
        good = phone.sign("https://gridline.example.gov.cn/twilio/sms", params)
        assert phone.post("/twilio/sms", params, signature=good).status_code == 200
        params = phone.sms_params(RESIDENT_G1, "路灯坏了")
        local = phone.sign("http://localhost/twilio/sms", params)
        assert phone.post("/twilio/sms", params, signature=local).status_code == 403
    finally:
        runtime.reset()


def test_same_message_sid_twice_makes_one_case(phone, rt, demo):
    params = phone.sms_params(RESIDENT_G1, "小区门口路灯坏了一个星期")
    assert phone.post("/twilio/sms", params).status_code == 200
    assert phone.post("/twilio/sms", params).status_code == 200
    phone.drain()
    assert len(inbound_rows(rt)) == 1
    assert len(cases(rt)) == 1
    assert len(outbox(rt, to=RESIDENT_G1, kind="receipt")) == 1


def test_same_message_sid_concurrently_makes_one_case(app, phone, rt, demo):
    """Twenty simultaneous deliveries of one MessageSid over real HTTP to a threaded server."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/twilio/sms"
        params = phone.sms_params(RESIDENT_G1, "楼道里的灯坏了，晚上很黑")
        headers = {"X-Twilio-Signature": phone.sign(url, params)}
        with ThreadPoolExecutor(max_workers=20) as pool:
            statuses = list(pool.map(lambda _: requests.post(url, data=params, headers=headers, timeout=30).status_code,
                                     range(20)))
    finally:
        server.shutdown()
    assert statuses == [200] * 20
    drain_queues(rt)
    assert len(inbound_rows(rt)) == 1
    assert len(cases(rt)) == 1
    assert len(outbox(rt, to=RESIDENT_G1, kind="receipt")) == 1


def test_missing_message_sid_is_400_and_recorded(phone, rt, demo):
    params = phone.sms_params(RESIDENT_G1, "路灯坏了")
    del params["MessageSid"]
    response = phone.post("/twilio/sms", params)
    assert response.status_code == 400
    [row] = inbound_rows(rt)
    assert row.status == "rejected" and row.outcome == "malformed" and "MessageSid" in row.outcome_note
    assert row.body == "路灯坏了"


def test_empty_message_gets_a_request_to_describe(phone, rt, demo):
    phone.text(RESIDENT_G1, "  \u3000 ")
    [row] = inbound_rows(rt)
    assert (row.status, row.outcome) == ("rejected", "empty")
    [reply] = outbox(rt, to=RESIDENT_G1)
    assert "请用文字描述" in reply.body
    assert cases(rt) == []


def test_oversized_message_is_refused_with_the_limit(phone, rt, demo):
    phone.text(RESIDENT_G1, "路灯坏了" * 500)
    [row] = inbound_rows(rt)
    assert (row.status, row.outcome) == ("rejected", "oversized")
    assert len(row.body) == 2000  # stored whole, never trimmed
    [reply] = outbox(rt, to=RESIDENT_G1)
    assert "1600" in reply.body
    assert cases(rt) == []


@pytest.mark.parametrize("sender", ["abc", "12345", "+1 555", ""])
def test_invalid_sender_is_recorded_and_not_answered(phone, rt, demo, sender):
    phone.text(sender, "村东头两伙人打起来了")
    [row] = inbound_rows(rt)
    assert (row.status, row.outcome) == ("rejected", "invalid_sender")
    assert row.from_phone is None and row.body == "村东头两伙人打起来了"
    assert outbox(rt) == []


def test_redis_down_message_stored_then_processed_by_the_sweep(settings, database_url, demo, rt):
    """The webhook answers 200 with Redis unreachable; the sweep enqueues it once Redis is back."""
    from gateway import create_app
    from tests.conftest import Phone
    from workers.jobs.sweeps import sweep_inbound

    down = create_app(settings.replace(redis_url="redis://127.0.0.1:1/0"))  # nothing listens on port 1
    phone = Phone(down.test_client(), settings, down.extensions["gridline"])
    response = phone.text(RESIDENT_G1, "村东头两伙人打起来了", drain=False)
    assert response.status_code == 200
    from workers import runtime

    healthy = runtime.init(settings)  # Redis is back
    healthy.redis.flushdb()
    assert cases(healthy) == []
    [row] = inbound_rows(healthy)
    assert row.status == "received"
    assert sweep_inbound(grace_seconds=0) == 1
    drain_queues(healthy)
    [case] = cases(healthy)
    assert case.category == "stability"
    assert len(outbox(healthy, to=RESIDENT_G1, kind="receipt")) == 1


def test_healthz_names_what_is_down(settings, client, demo, rt):
    from workers.liveness import Heartbeat

    heartbeat = Heartbeat(rt.redis, "worker")
    heartbeat.beat()
    assert client.get("/healthz").status_code == 200
    heartbeat.stop()
    from gateway import create_app

    down = create_app(settings.replace(redis_url="redis://127.0.0.1:1/0"))
    response = down.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["failing"] == ["redis"]


def _receipt_handed_to_twilio(phone, rt, sid: str, status: str):
    """A resident's receipt, as if Twilio had accepted it under `sid` and reported `status`."""
    phone.text(RESIDENT_G1, "路灯坏了")
    receipt = outbox(rt, to=RESIDENT_G1, kind="receipt")[0]
    with rt.db.session() as session:
        row = session.get(OutboundMessage, receipt.id)
        row.provider_sid, row.status = sid, status
    return receipt


def test_status_callback_never_moves_backwards(phone, rt, demo):
    receipt = _receipt_handed_to_twilio(phone, rt, "SMdeadbeef", "queued")

    def status(value, code=None):
        params = {"MessageSid": "SMdeadbeef", "MessageStatus": value, "AccountSid": phone.settings.twilio_account_sid}
        if code:
            params["ErrorCode"] = code
        assert phone.post("/twilio/sms/status", params).status_code == 200
        with rt.db.session() as session:
            return session.get(OutboundMessage, receipt.id).status

    assert status("sent") == "sent"
    assert status("delivered") == "delivered"
    assert status("sent") == "delivered"       # late 'sent' after 'delivered' is ignored
    assert status("queued") == "delivered"
    assert phone.post("/twilio/sms/status", {"MessageSid": "SMdeadbeef", "MessageStatus": "sent"},
                      signature="forged").status_code == 403


def test_status_callback_21610_opts_the_number_out(phone, rt, demo):
    from models import OptOut

    receipt = _receipt_handed_to_twilio(phone, rt, "SMoptout", "sent")
    phone.post("/twilio/sms/status", {"MessageSid": "SMoptout", "MessageStatus": "undelivered", "ErrorCode": "21610"})
    with rt.db.session() as session:
        assert session.get(OptOut, RESIDENT_G1).source == "provider_21610"
        assert session.get(OutboundMessage, receipt.id).error_code == "21610"
