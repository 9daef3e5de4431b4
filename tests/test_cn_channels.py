"""Alibaba Cloud, Tencent Cloud and an office's Android phone, end to end: the web app serves real
HTTP, each provider's stand-in (tests/cn_stubs.py) takes the official SDK's real calls and builds
pushes in the documented shapes, and a real RQ worker drains the queues."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from contextlib import contextmanager

import pytest
import requests
import sqlalchemy as sa
import yaml
from werkzeug.serving import make_server

from models import InboundMessage, OutboundMessage
from tests.cn_stubs import AliyunStub, AndroidStub, TencentStub
from tests.conftest import DEMO, RESIDENT_G1, RESIDENT_G1_B, drain_queues, outbox
from workers.settings import PROJECT_ROOT, load_settings

TOKEN = "cb-" + "k" * 29
SIGNING_KEY = "android-signing-key-1"
CHANNELS = ("aliyun", "tencent", "android")
ALIYUN_IDS = {}
TENCENT_IDS = {}


def mapped_rules(path) -> None:
    """The stock rules plus an approved template id for every template, as an office would have."""
    from workers.provider_templates import NOT_SENT, placeholders

    data = yaml.safe_load((PROJECT_ROOT / "routing_rules.yaml").read_text(encoding="utf-8"))
    data["provider_templates"] = {"aliyun": {}, "tencent": {}}
    for index, (key, text) in enumerate(sorted(data["templates"].items())):
        if key in NOT_SENT:
            continue
        params = placeholders(text)
        ALIYUN_IDS[key], TENCENT_IDS[key] = f"SMS_4802150{index:02d}", f"20345{index:02d}"
        data["provider_templates"]["aliyun"][key] = {"id": ALIYUN_IDS[key], "params": params}
        data["provider_templates"]["tencent"][key] = {"id": TENCENT_IDS[key], "params": params}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


class Harness:
    """One channel: its stand-in, the app behind a real HTTP server, and the provider's pushes."""

    def __init__(self, name: str, app, base: str, stub):
        self.name, self.app, self.rt, self.base, self.stub = name, app, app.extensions["gridline"], base, stub

    # -- pushes --------------------------------------------------------------------------------
    def post(self, path: str, payload, token: str | None = TOKEN, signed: bool = True, timestamp: int | None = None,
             key: str = SIGNING_KEY):
        body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if self.name == "android":
            stamp = str(timestamp if timestamp is not None else int(time.time()))
            if signed:
                headers["X-Timestamp"] = stamp
                headers["X-Signature"] = hmac.new(key.encode(), body + stamp.encode(), hashlib.sha256).hexdigest()
            return requests.post(f"{self.base}/sms/android", data=body, headers=headers, timeout=10)
        query = f"?token={token}" if token is not None else ""
        return requests.post(f"{self.base}{path}{query}", data=body, headers=headers, timeout=10)

    def text_payload(self, phone: str, text: str, key=None):
        if self.name == "aliyun":
            return [self.stub.up_item(phone.removeprefix("+86"), text, key)]
        if self.name == "tencent":
            return self.stub.reply(phone, text, key)
        return self.stub.received(phone, text, key)

    @property
    def up_path(self) -> str:
        return {"aliyun": "/sms/aliyun/up", "tencent": "/sms/tencent/reply", "android": "/sms/android"}[self.name]

    def text(self, phone: str, text: str, key=None, drain: bool = True):
        response = self.post(self.up_path, self.text_payload(phone, text, key))
        assert response.status_code == 200, response.text
        if drain:
            drain_queues(self.rt)
        return response

    def report(self, sent: dict, success: bool = True):
        if self.name == "aliyun":
            return self.post("/sms/aliyun/report", [self.stub.report(sent, success)])
        if self.name == "tencent":
            return self.post("/sms/tencent/status", [self.stub.status(sent, success)])
        event = "sms:delivered" if success else "sms:failed"
        payload = {"messageId": sent["id"], "phoneNumber": sent["phoneNumbers"][0]}
        if not success:
            payload["reason"] = "RESULT_ERROR_GENERIC_FAILURE"
        return self.post("/sms/android", self.stub.event(event, payload))

    # -- what the provider got -----------------------------------------------------------------
    def sent_to(self, phone: str) -> list[dict]:
        if self.name == "aliyun":
            return [s for s in self.stub.sent if s["PhoneNumbers"] == phone.removeprefix("+86")]
        if self.name == "tencent":
            return [s for s in self.stub.sent if s["PhoneNumberSet"] == [phone]]
        return [s for s in self.stub.sent if s["phoneNumbers"] == [phone]]

    def template_of(self, sent: dict) -> tuple[str, dict | list]:
        if self.name == "aliyun":
            return sent["TemplateCode"], json.loads(sent["TemplateParam"])
        if self.name == "tencent":
            return sent["TemplateId"], sent["TemplateParamSet"]
        return "", sent["textMessage"]["text"]

    def our_id(self, sent: dict) -> int:
        value = {"aliyun": "OutId", "tencent": "SessionContext", "android": "id"}[self.name]
        return int(str(sent[value]).removeprefix("gridline-"))


def _cases(rt):
    from tests.conftest import cases

    return cases(rt)


def channel_env(name: str, stub_url: str, tmp_path, database_url, redis_url, default: str | None = None) -> dict:
    rules = tmp_path / "rules.yaml"
    mapped_rules(rules)
    env = {
        "GRIDLINE_INSTANCE_PATH": str(tmp_path / "instance"), "GRIDLINE_DATABASE_URL": database_url,
        "GRIDLINE_REDIS_URL": redis_url, "GRIDLINE_SECRET_KEY": "test-secret", "GRIDLINE_RULES": str(rules),
        "GRIDLINE_SMS_PROVIDER": default or name, "GRIDLINE_CALLBACK_TOKEN": TOKEN,
        "GRIDLINE_ALIYUN_ACCESS_KEY_ID": "LTAI5tTestAccessKey01", "GRIDLINE_ALIYUN_ACCESS_KEY_SECRET": "secret",
        "GRIDLINE_ALIYUN_SIGN_NAME": "网格通", "GRIDLINE_ALIYUN_ENDPOINT": stub_url if name == "aliyun" else "http://127.0.0.1:1",
        "GRIDLINE_TENCENT_SECRET_ID": "AKIDtest", "GRIDLINE_TENCENT_SECRET_KEY": "secret",
        "GRIDLINE_TENCENT_SMS_APP_ID": "1400000001", "GRIDLINE_TENCENT_SIGN_NAME": "网格通",
        "GRIDLINE_TENCENT_ENDPOINT": stub_url if name == "tencent" else "http://127.0.0.1:1",
        "GRIDLINE_ANDROID_SIGNING_KEY": SIGNING_KEY,
    }
    if name == "android":
        env.update(GRIDLINE_ANDROID_URL=stub_url, GRIDLINE_ANDROID_USERNAME="sms", GRIDLINE_ANDROID_PASSWORD="pw")
    return env


@contextmanager
def harness(name: str, tmp_path, database_url, redis_url, monkeypatch, default: str | None = None):
    """The app for one channel (and `default` as GRIDLINE_SMS_PROVIDER), behind a real HTTP server."""
    from gateway import create_app
    from tests.conftest import _empty_tables
    from workers import directory, runtime
    from workers.providers import aliyun, android, tencent

    for module in (aliyun, tencent, android):
        monkeypatch.setattr(module, "READ_TIMEOUT", 1)
    stub = {"aliyun": AliyunStub, "tencent": TencentStub, "android": AndroidStub}[name]()
    app = create_app(load_settings(channel_env(name, stub.url, tmp_path, database_url, redis_url, default), testing=True))
    rt = app.extensions["gridline"]
    _empty_tables(rt.db)
    directory.invalidate()
    rt.redis.flushdb()
    from models.imports import import_rows, read_rows
    from models.team import STOCK_TEAM_KINDS

    with rt.db.session() as session:
        for kind in ("areas", "teams", "members", "residents"):
            import_rows(session, kind, read_rows(kind, DEMO / f"{kind}.csv"), STOCK_TEAM_KINDS)
    directory.invalidate()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield Harness(name, app, f"http://127.0.0.1:{server.server_port}", stub)
    finally:
        server.shutdown()
        stub.close()
        runtime.reset()


@pytest.fixture(params=CHANNELS)
def channel(request, tmp_path, database_url, redis_url, monkeypatch):
    with harness(request.param, tmp_path, database_url, redis_url, monkeypatch) as h:
        yield h


def _inbound(rt) -> list[InboundMessage]:
    with rt.db.session() as session:
        return list(session.scalars(sa.select(InboundMessage).order_by(InboundMessage.id)))


def _message(rt, message_id: int) -> OutboundMessage:
    with rt.db.session() as session:
        return session.get(OutboundMessage, message_id)


# -- a resident's text, end to end --------------------------------------------------------------
def test_text_becomes_a_routed_case_and_the_receipt_goes_out_through_the_provider(channel):
    channel.text(RESIDENT_G1, "小区门口路灯坏了，晚上很黑")
    [case] = _cases(channel.rt)
    assert case.status == "assigned" and case.channel == "sms" and case.team.code == "DH-S1-C1-G1-T"
    [message] = _inbound(channel.rt)
    assert message.provider_sid.startswith(f"{channel.name}:") and message.outcome == "case_opened"

    [receipt] = outbox(channel.rt, to=RESIDENT_G1)
    assert (receipt.kind, receipt.provider, receipt.status) == ("receipt", channel.name, "queued")
    [sent] = channel.sent_to(RESIDENT_G1)
    assert channel.our_id(sent) == receipt.id
    template, params = channel.template_of(sent)
    expected = {"number": case.number, "team": case.team.name, "due": receipt.params["due"]}
    if channel.name == "aliyun":
        assert (template, params) == (ALIYUN_IDS["receipt"], expected)
        assert sent["SignName"] == "网格通"
    elif channel.name == "tencent":
        assert (template, params) == (TENCENT_IDS["receipt"], [case.number, case.team.name, receipt.params["due"]])
        assert sent["SignName"] == "网格通" and sent["SmsSdkAppId"] == "1400000001"
    else:
        assert params.startswith("【网格通】您反映的问题已受理") and case.number in params
    # the grid team heard of it through the same provider
    notices = outbox(channel.rt, kind="team_notice")
    assert notices and all(n.status == "queued" and n.provider == channel.name for n in notices)

    assert channel.report(sent).status_code == 200
    assert _message(channel.rt, receipt.id).status == "delivered"
    assert channel.report(sent, success=False).status_code == 200  # a late, contrary report never moves it back
    assert _message(channel.rt, receipt.id).status == "delivered"


def test_a_failed_delivery_report_is_recorded(channel):
    channel.text(RESIDENT_G1, "查询")
    [reply] = outbox(channel.rt, to=RESIDENT_G1)
    [sent] = channel.sent_to(RESIDENT_G1)
    channel.report(sent, success=False)
    reply = _message(channel.rt, reply.id)
    assert reply.status in ("undelivered", "failed") and reply.error


def test_the_same_push_twice_makes_one_case(channel):
    payload = channel.text_payload(RESIDENT_G1, "楼道里堆满杂物，消防通道堵了", "dup-1" if channel.name != "tencent" else None)
    for _ in range(2):
        assert channel.post(channel.up_path, payload).status_code == 200
    drain_queues(channel.rt)
    assert len(_cases(channel.rt)) == 1
    assert len(_inbound(channel.rt)) == 1
    assert len(channel.sent_to(RESIDENT_G1)) == 1


@pytest.mark.parametrize("token", [None, "wrong-token-wrong-token"])
def test_missing_or_wrong_token_or_signature_is_refused_and_nothing_is_stored(channel, token):
    payload = channel.text_payload(RESIDENT_G1, "路灯坏了")
    if channel.name == "android":
        response = channel.post(channel.up_path, payload, signed=token is not None, key="not-the-key-at-all")
    else:
        response = channel.post(channel.up_path, payload, token=token)
    assert response.status_code == 403
    drain_queues(channel.rt)
    assert _inbound(channel.rt) == [] and _cases(channel.rt) == []


def test_a_bad_item_is_recorded_with_its_reason_and_the_good_ones_stored(channel):
    if channel.name == "aliyun":
        items = [channel.stub.up_item("13805710001", "小区门口路灯坏了"), {"phone_number": "13805710002", "content": "没编号"},
                 channel.stub.up_item("13805710002", "垃圾三天没人收")]
        assert channel.post(channel.up_path, items).status_code == 200
    elif channel.name == "tencent":
        assert channel.post(channel.up_path, channel.stub.reply(RESIDENT_G1, "小区门口路灯坏了")).status_code == 200
        assert channel.post(channel.up_path, {"mobile": "13805710002", "text": "没有时间"}).status_code == 200
        assert channel.post(channel.up_path, channel.stub.reply(RESIDENT_G1_B, "垃圾三天没人收")).status_code == 200
    else:
        assert channel.post(channel.up_path, channel.stub.received(RESIDENT_G1, "小区门口路灯坏了")).status_code == 200
        bad = channel.stub.event("sms:received", {"message": "没有号码"})
        assert channel.post(channel.up_path, bad).status_code == 200
        assert channel.post(channel.up_path, channel.stub.received(RESIDENT_G1_B, "垃圾三天没人收")).status_code == 200
    drain_queues(channel.rt)
    assert len(_cases(channel.rt)) == 2
    rejected = [m for m in _inbound(channel.rt) if m.status == "rejected"]
    assert len(rejected) == 1 and rejected[0].outcome == "malformed"
    assert any(word in rejected[0].outcome_note for word in ("sequence_id", "time", "phoneNumber"))


def test_a_route_whose_channel_is_not_configured_answers_404(tmp_path, database_url, redis_url):
    from gateway import create_app
    from workers import runtime

    app = create_app(load_settings({"GRIDLINE_INSTANCE_PATH": str(tmp_path / "i"), "GRIDLINE_DATABASE_URL": database_url,
                                    "GRIDLINE_REDIS_URL": redis_url, "GRIDLINE_SECRET_KEY": "x"}, testing=True))
    client = app.test_client()
    for path in ("/sms/aliyun/up", "/sms/aliyun/report", "/sms/tencent/reply", "/sms/tencent/status", "/sms/android"):
        assert client.post(f"{path}?token={TOKEN}", json=[]).status_code == 404, path
    runtime.reset()


# -- the provider down or slow --------------------------------------------------------------------
def _retry_due(rt) -> None:
    from datetime import timedelta

    from workers.jobs.sweeps import sweep_outbound

    with rt.db.session() as session:
        for message in session.scalars(sa.select(OutboundMessage).where(OutboundMessage.status == "pending")):
            message.next_attempt_at = rt.now() - timedelta(seconds=1)
    sweep_outbound(grace_seconds=0)
    drain_queues(rt)


def test_provider_down_loses_nothing_and_sends_once_when_back(channel):
    channel.stub.stop()
    channel.text(RESIDENT_G1, "查询")
    [reply] = outbox(channel.rt, to=RESIDENT_G1)
    assert reply.status == "pending" and reply.error.startswith("network")
    channel.stub.start()
    _retry_due(channel.rt)
    assert _message(channel.rt, reply.id).status == "queued"
    assert len(channel.sent_to(RESIDENT_G1)) == 1


def test_rate_limit_refusal_is_retried_later(channel):
    if channel.name == "android":
        pytest.skip("the phone has no rate-limit refusal")
    channel.stub.script.append("limit")
    channel.text(RESIDENT_G1, "查询")
    [reply] = outbox(channel.rt, to=RESIDENT_G1)
    assert reply.status == "pending" and reply.next_attempt_at is not None
    assert channel.sent_to(RESIDENT_G1) == []
    _retry_due(channel.rt)
    assert _message(channel.rt, reply.id).status == "queued" and len(channel.sent_to(RESIDENT_G1)) == 1


def _settle(rt, minutes: float) -> dict:
    from datetime import timedelta

    from workers.jobs.settle import settle_unknown

    return settle_unknown(now=rt.now() + timedelta(minutes=minutes))


def test_a_timed_out_send_is_held_unknown_and_settled_never_sent_twice(channel):
    channel.stub.script.append("timeout")
    channel.text(RESIDENT_G1, "查询")
    [reply] = outbox(channel.rt, to=RESIDENT_G1)
    assert reply.status == "unknown"
    assert len(channel.sent_to(RESIDENT_G1)) == 1  # it did go out
    _retry_due(channel.rt)  # the outbound sweep never resends an unknown
    assert len(channel.sent_to(RESIDENT_G1)) == 1
    _settle(channel.rt, 3)  # the provider is asked
    settled = _message(channel.rt, reply.id)
    assert settled.status in ("queued", "sent", "delivered")
    _retry_due(channel.rt)
    assert len(channel.sent_to(RESIDENT_G1)) == 1
    [sent] = channel.sent_to(RESIDENT_G1)
    channel.report(sent)
    assert _message(channel.rt, reply.id).status == "delivered"


def test_an_unknown_send_settled_by_its_delivery_report(channel):
    channel.stub.script.append("timeout")
    channel.text(RESIDENT_G1, "查询")
    [reply] = outbox(channel.rt, to=RESIDENT_G1)
    [sent] = channel.sent_to(RESIDENT_G1)
    if channel.name == "tencent":  # Tencent's status callback names only the SerialNo we never got
        pytest.skip("settled by PullSmsSendStatusByPhoneNumber instead")
    channel.report(sent)
    assert _message(channel.rt, reply.id).status == "delivered"
    assert _settle(channel.rt, 3) == {}


def test_a_dropped_call_that_sent_nothing_is_resent_once_the_provider_says_so(channel):
    channel.stub.script.append("drop")
    channel.text(RESIDENT_G1, "查询")
    [reply] = outbox(channel.rt, to=RESIDENT_G1)
    assert reply.status == "unknown" and channel.sent_to(RESIDENT_G1) == []
    absent_after = channel.rt.provider.absent_after.total_seconds() / 60
    if absent_after > 3:  # Aliyun and Tencent records can lag: too early to say
        assert _settle(channel.rt, 3) == {"still_unknown": 1}
    assert _settle(channel.rt, absent_after + 1) == {"resend": 1}
    _retry_due(channel.rt)
    assert _message(channel.rt, reply.id).status == "queued"
    assert len(channel.sent_to(RESIDENT_G1)) == 1


# -- Aliyun's batch semantics ---------------------------------------------------------------------
@pytest.mark.parametrize("channel", ["aliyun"], indirect=True)
def test_aliyun_batch_retried_after_a_5xx_makes_one_case_each(channel, monkeypatch):
    items = [channel.stub.up_item("13805710001", "小区门口路灯坏了"), channel.stub.up_item("13805710009", "村里垃圾三天没人收")]
    db = channel.rt.db
    real = db.insert_returning
    calls = []

    def failing_second(sql, params):  # the database goes away half-way through the batch
        calls.append(1)
        if len(calls) == 2:
            import sqlite3

            raise sqlite3.OperationalError("database is locked")
        return real(sql, params)

    monkeypatch.setattr(db, "insert_returning", failing_second)
    response = channel.post("/sms/aliyun/up", items)
    assert response.status_code == 503 and response.json()["code"] != 0
    monkeypatch.setattr(db, "insert_returning", real)
    response = channel.post("/sms/aliyun/up", items)  # Aliyun pushes the batch again
    assert response.status_code == 200 and response.json() == {"code": 0, "msg": "接收成功"}
    drain_queues(channel.rt)
    assert sorted(c.reporter_phone for c in _cases(channel.rt)) == ["+8613805710001", "+8613805710009"]


@pytest.mark.parametrize("channel", ["tencent"], indirect=True)
def test_tencent_answers_in_its_own_shape(channel):
    response = channel.text(RESIDENT_G1, "小区门口路灯坏了")
    assert response.json() == {"result": 0, "errmsg": "OK"}


@pytest.mark.parametrize("channel", ["android"], indirect=True)
def test_android_stale_or_replayed_events(channel):
    payload = channel.stub.received(RESIDENT_G1, "小区门口路灯坏了", "evt-1")
    assert channel.post(channel.up_path, payload, timestamp=int(time.time()) - 301).status_code == 403
    assert channel.post(channel.up_path, payload, timestamp=int(time.time()) + 301).status_code == 403
    assert _inbound(channel.rt) == []
    for _ in range(3):  # the app retries with backoff: one message
        assert channel.post(channel.up_path, payload).status_code == 200
    drain_queues(channel.rt)
    assert len(_cases(channel.rt)) == 1
    ping = channel.stub.event("system:ping", {"health": {"status": "pass"}})
    assert channel.post(channel.up_path, ping).status_code == 200


def test_the_allow_list_refuses_other_sources(tmp_path, database_url, redis_url):
    from gateway import create_app
    from workers import runtime

    rules = tmp_path / "rules.yaml"
    mapped_rules(rules)
    app = create_app(load_settings({
        "GRIDLINE_INSTANCE_PATH": str(tmp_path / "i"), "GRIDLINE_DATABASE_URL": database_url, "GRIDLINE_REDIS_URL": redis_url,
        "GRIDLINE_SECRET_KEY": "x", "GRIDLINE_RULES": str(rules), "GRIDLINE_CALLBACK_TOKEN": TOKEN,
        "GRIDLINE_CALLBACK_ALLOW": "203.0.113.0/24", "GRIDLINE_TENCENT_SECRET_ID": "AKIDtest",
        "GRIDLINE_TENCENT_SECRET_KEY": "k", "GRIDLINE_TENCENT_SMS_APP_ID": "1400000001", "GRIDLINE_TENCENT_SIGN_NAME": "网格通"},
        testing=True))
    client = app.test_client()
    body = {"mobile": "13805710001", "nationcode": "86", "text": "路灯坏了", "time": 1457336869}
    assert client.post(f"/sms/tencent/reply?token={TOKEN}", json=body,
                       environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 403
    assert client.post(f"/sms/tencent/reply?token={TOKEN}", json=body,
                       environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 200
    runtime.reset()


# -- replies through the resident's channel; the trainer's simulator ----------------------------
@pytest.mark.parametrize("name", CHANNELS)
def test_a_reply_goes_back_through_the_channel_the_resident_used(name, tmp_path, database_url, redis_url, monkeypatch):
    with harness(name, tmp_path, database_url, redis_url, monkeypatch, default="outbox") as h:
        h.text(RESIDENT_G1, "小区门口路灯坏了")
        [receipt] = outbox(h.rt, to=RESIDENT_G1)
        assert (receipt.provider, receipt.status) == (name, "queued") and len(h.sent_to(RESIDENT_G1)) == 1
        notices = outbox(h.rt, kind="team_notice")  # staff are reached through GRIDLINE_SMS_PROVIDER
        assert notices and {n.provider for n in notices} == {"outbox"}
        # later news of the case follows the resident's channel too
        from workers.notify import Notifier
        from models import Case

        with h.rt.db.session() as session:
            case = session.scalars(sa.select(Case)).one()
            notifier = Notifier(session, h.rt.provider, h.rt.policy, h.rt.now())
            notifier.send(case.reporter_phone, "progress_notice", {"number": case.number, "note": "已联系物业"},
                          "status_update", case)
            ids = notifier.pending_ids()
        from workers.jobs.outbound import send_outbound

        send_outbound(ids)
        assert _message(h.rt, ids[0]).provider == name and len(h.sent_to(RESIDENT_G1)) == 2


def test_simulate_drives_each_channels_real_route(channel):
    from tests.test_imports import run

    result = run(channel.app, "sms", "simulate", "--channel", channel.name, "--from", "13805710001", "小区门口路灯坏了")
    assert result.exit_code == 0, result.output
    assert f"已投递 {channel.name}:" in result.output
    drain_queues(channel.rt)
    [case] = _cases(channel.rt)
    assert case.reporter_phone == RESIDENT_G1
    [message] = _inbound(channel.rt)
    assert message.provider_sid.startswith(f"{channel.name}:")
    result = run(channel.app, "sms", "simulate", "--channel", channel.name, "--from", "13805710001",
                 "--url", channel.base, "垃圾三天没人收")
    assert result.exit_code == 0, result.output
    drain_queues(channel.rt)
    assert len(_inbound(channel.rt)) == 2
