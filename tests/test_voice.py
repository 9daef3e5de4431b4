"""The hotline webhooks with signed requests: greeting TwiML, speech -> case, empty speech ->
recording fallback, recordings attached for operators."""
from __future__ import annotations

import sqlalchemy as sa

from models import Call
from tests.conftest import RESIDENT_G1, cases, outbox


def call_params(phone, **extra):
    params = {"CallSid": "CA" + "1" * 32, "AccountSid": phone.settings.twilio_account_sid, "From": RESIDENT_G1,
              "To": phone.settings.short_number, "CallStatus": "in-progress", "Direction": "inbound"}
    params.update(extra)
    return params


def test_greeting_gathers_mandarin_speech_then_records(phone, rt, demo):
    response = phone.post("/twilio/voice", call_params(phone))
    assert response.status_code == 200 and response.mimetype == "text/xml"
    xml = response.data.decode()
    assert '<Gather action="/twilio/voice/speech" input="speech" language="cmn-Hans-CN"' in xml
    assert 'speechModel' not in xml and 'speechTimeout="3"' in xml
    assert '<Say language="cmn-CN" voice="Polly.Zhiyu">您好，这里是网格通服务热线' in xml
    assert xml.index("<Gather") < xml.index("<Record")
    assert 'recordingStatusCallback="/twilio/voice/recording"' in xml and 'transcribe' not in xml
    with rt.db.session() as session:
        assert session.scalars(sa.select(Call)).one().from_phone == RESIDENT_G1


def test_voice_webhooks_check_signatures(phone, rt, demo):
    for path in ("/twilio/voice", "/twilio/voice/speech", "/twilio/voice/recording"):
        assert phone.post(path, call_params(phone), signature="forged").status_code == 403
    with rt.db.session() as session:
        assert session.scalars(sa.select(Call)).all() == []


def test_speech_result_becomes_a_voice_case_with_the_sms_receipt(phone, rt, demo):
    phone.post("/twilio/voice", call_params(phone))
    response = phone.post("/twilio/voice/speech", call_params(phone, SpeechResult="村东头两伙人打起来了", Confidence="0.87"))
    assert "已记录您反映的问题" in response.data.decode() and "<Hangup />" in response.data.decode()
    phone.drain()
    [case] = cases(rt)
    assert (case.channel, case.category, case.team.code) == ("voice", "stability", "DH-S1-C1-G1-T")
    [receipt] = outbox(rt, to=RESIDENT_G1, kind="receipt")
    assert f"编号{case.number}" in receipt.body
    with rt.db.session() as session:
        call = session.scalars(sa.select(Call)).one()
        assert (call.transcript, call.confidence) == ("村东头两伙人打起来了", 0.87)
    # Twilio retries the action: still one case
    phone.post("/twilio/voice/speech", call_params(phone, SpeechResult="村东头两伙人打起来了", Confidence="0.87"))
    phone.drain()
    assert len(cases(rt)) == 1


def test_empty_speech_falls_back_to_a_recording_for_an_operator(phone, rt, demo):
    response = phone.post("/twilio/voice/speech", call_params(phone, SpeechResult=""))
    assert "<Record" in response.data.decode() and "没有听清" in response.data.decode()
    assert cases(rt) == []
    phone.post("/twilio/voice/recording", call_params(phone, RecordingSid="RE" + "2" * 32, RecordingDuration="42",
                                                      RecordingUrl="https://api.twilio.com/rec/RE2"))
    phone.drain()
    [case] = cases(rt)
    assert case.channel == "voice" and case.status == "triage" and "42秒录音，待话务员转写" in case.text
    with rt.db.session() as session:
        call = session.scalars(sa.select(Call)).one()
        assert (call.recording_seconds, call.recording_url) == (42, "https://api.twilio.com/rec/RE2")


def test_recording_after_good_speech_is_attached_without_a_second_case(phone, rt, demo):
    phone.post("/twilio/voice/speech", call_params(phone, SpeechResult="楼上漏水"))
    phone.post("/twilio/voice/recording", call_params(phone, RecordingSid="RE3", RecordingDuration="10",
                                                      RecordingUrl="https://api.twilio.com/rec/RE3"))
    phone.drain()
    assert len(cases(rt)) == 1


def test_landline_caller_gets_a_case_but_no_sms(phone, rt, demo):
    phone.post("/twilio/voice/speech", call_params(phone, From="+8657487654321", SpeechResult="楼上漏水好几天了"))
    phone.drain()
    [case] = cases(rt)
    [receipt] = outbox(rt, to="+8657487654321")
    assert receipt.status == "suppressed" and "非手机号码" in receipt.error


def test_operator_sees_the_transcript_and_recording_on_the_case(phone, rt, demo, client):
    from tests.test_console_api import login
    from tests.test_imports import run

    run(phone.client.application, "demo")
    phone.post("/twilio/voice/speech", call_params(phone, SpeechResult="楼上漏水好几天了", Confidence="0.91"))
    phone.post("/twilio/voice/recording", call_params(phone, RecordingSid="RE9", RecordingDuration="33",
                                                      RecordingUrl="https://api.twilio.com/rec/RE9"))
    phone.drain()
    login(client, "operator")
    page = client.get(f"/console/cases/{cases(rt)[0].number}").data.decode()
    assert "语音转写：楼上漏水好几天了" in page and "0.91" in page and "录音 33 秒" in page and "RE9" in page
