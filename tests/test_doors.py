"""Issue 10: every door proves who is speaking. A report typed by a person (API, call notes)
opens or adds to a case and names that person; only a signed provider push acts as the phone;
the simulator acts only for training numbers and shows only what the viewer may see; NUL and
zero-width characters never cost a message; bad voice fields never cost a call its record."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from models import Call, CaseEvent, InboundMessage, OptOut
from tests.conftest import RESIDENT_G1, cases, drain_queues, outbox
from tests.test_console_api import csrf, login, token_for
from tests.test_imports import run
from tests.test_voice import call_params

G1_LEADER = "+8613905710031"        # 彭丽华, leader of 湖畔社区第1网格服务团队
TRAINEE = "+8613805710090"          # a resident of the demo training grid
TRAINING_LEADER = "+8613905710090"  # the training grid team's leader


@pytest.fixture
def users(app, demo):
    """The demo district with the demo console accounts."""
    run(app, "demo")
    return app


def inbound_rows(rt) -> list[InboundMessage]:
    with rt.db.session() as session:
        return list(session.scalars(sa.select(InboundMessage).order_by(InboundMessage.id)))


def simulate(client, rt, phone: str, text: str):
    response = client.post("/console/simulator", data={"csrf": csrf(client, "/console/simulator"), "phone": phone,
                                                       "text": text})
    drain_queues(rt)
    return response


def trail(rt, case_id: int) -> list[tuple[str, str]]:
    with rt.db.session() as session:
        return [(e.type, e.actor) for e in session.scalars(
            sa.select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))]


# -- finding 1: an API token or a console login cannot act as a phone ------------------------------
def test_api_report_in_a_leaders_name_cannot_resolve_the_case(client, users, rt, phone):
    phone.text(RESIDENT_G1, "我家楼上漏水好几天了")
    [case] = cases(rt)
    assert case.team.code == "DH-S1-C1-G1-T"
    auth = {"Authorization": f"Bearer {token_for(users, 'member2')}"}  # 桃源村第2网格: another grid
    response = client.post("/api/v1/reports", json={"phone": G1_LEADER, "text": f"办结 {case.number} 已修好"},
                           headers=auth)
    assert response.status_code == 201
    drain_queues(rt)
    first, second = cases(rt)
    assert first.status == "assigned"                      # not resolved
    assert second.reporter_phone == G1_LEADER and second.channel == "api"  # a report, nothing more
    # The 201 names the case, and tells nothing of a case the caller may not see.
    assert response.json == {"number": second.number, "note": "已立案；该案件不在您的查看范围"}
    received = trail(rt, second.id)[0]
    assert received[0] == "received" and "桃源二网格（接口） 录入" in received[1]
    [message] = [m for m in inbound_rows(rt) if m.door == "api"]
    with rt.db.session() as session:
        from models import User

        assert message.entered_by_id == session.scalar(sa.select(User.id).where(User.username == "member2"))
    assert not outbox(rt, to=G1_LEADER, kind="command_reply")


def test_call_notes_cannot_opt_out_rate_or_join_for_the_caller(client, users, rt, phone):
    login(client, "operator")
    for notes in ("退订", "1"):
        client.post("/console/intake", data={"csrf": csrf(client, "/console/intake"), "phone": "13805710001",
                                             "notes": notes})
    drain_queues(rt)
    with rt.db.session() as session:
        assert session.get(OptOut, RESIDENT_G1) is None
    # Two reports a minute apart: a person's notes never join a conversation; each is a report.
    assert [m.outcome for m in inbound_rows(rt)] == ["case_opened", "case_opened"]
    [received] = [a for t, a in trail(rt, cases(rt)[0].id) if t == "received"]
    assert "话务员小王 录入" in received


def test_simulator_refuses_numbers_outside_the_training_area(client, users, rt, phone):
    phone.text(RESIDENT_G1, "村东头两伙人打起来了")  # a real resident's stability case
    login(client, "supervisor")
    page = client.get("/console/simulator?phone=13805710001")
    assert page.status_code == 403 and "打起来" not in page.data.decode()
    assert simulate(client, rt, G1_LEADER, "办结 100001 已处理").status_code == 403
    assert cases(rt)[0].status == "assigned" and len(inbound_rows(rt)) == 1


def test_simulator_acts_for_training_numbers_recorded_as_simulated(client, users, rt):
    login(client, "supervisor")
    simulate(client, rt, TRAINEE, "楼道里的灯坏了")
    [case] = cases(rt)
    assert case.team.code == "DH-S1-C1-PX-T"
    simulate(client, rt, TRAINING_LEADER, f"办结 {case.number} 已换灯")
    assert cases(rt)[0].status == "resolved"  # a training member's command works, in training
    actors = dict(trail(rt, case.id))
    assert "培训模拟，督办人员 东湖街道督办操作" in actors["received"]
    assert "培训模拟" in actors["resolved"]
    assert {m.door for m in inbound_rows(rt)} == {"simulator"}


def test_simulator_hides_messages_of_cases_the_viewer_may_not_see(client, users, rt):
    login(client, "supervisor")
    simulate(client, rt, TRAINEE, "村东头两伙人打起来了")
    [case] = cases(rt)
    assert case.category == "stability"
    assert "打起来" in client.get(f"/console/simulator?phone={TRAINEE}").data.decode()
    client.post("/console/logout", data={"csrf": csrf(client)})
    login(client, "operator")  # operators do not see stability cases
    assert client.get(f"/console/cases/{case.number}").status_code == 403
    page = client.get(f"/console/simulator?phone={TRAINEE}").data.decode()
    assert "打起来" not in page and f"编号{case.number}" not in page


# -- finding 6: NUL, control and zero-width characters at the doors --------------------------------
def test_nul_in_sms_body_and_from_is_stored_and_answered(phone, rt, demo):
    response = phone.post("/twilio/sms", phone.sms_params("+86138057\x0010001", "路灯\x00坏了\x07一个星期"))
    assert response.status_code == 200
    phone.drain()
    [message] = inbound_rows(rt)
    assert message.from_phone == RESIDENT_G1 and message.body == "路灯坏了一个星期"
    [case] = cases(rt)
    assert case.text == "路灯坏了一个星期"
    assert len(outbox(rt, to=RESIDENT_G1, kind="receipt")) == 1


def test_zero_width_only_body_is_an_empty_message_not_a_case(phone, rt, demo):
    phone.text(RESIDENT_G1, "\u200b\u200b\ufeff\u200d")
    assert cases(rt) == []
    [message] = inbound_rows(rt)
    assert message.outcome == "empty"
    assert [m.template for m in outbox(rt, to=RESIDENT_G1)] == ["empty_message"]


def test_nul_in_api_report_and_call_notes_opens_a_case(client, users, rt):
    auth = {"Authorization": f"Bearer {token_for(users, 'operator')}"}
    created = client.post("/api/v1/reports", json={"phone": "1380571\x000001", "text": "小区门口\x00路灯坏了"},
                          headers=auth)
    assert created.status_code == 201
    assert client.post("/api/v1/reports", json={"phone": "13805710001", "text": "\u200b\x00"},
                       headers=auth).status_code == 422
    login(client, "operator")
    response = client.post("/console/intake", data={"csrf": csrf(client, "/console/intake"), "phone": "13805710002",
                                                    "notes": "来电反映：\x00楼上漏水"})
    assert response.status_code == 302
    assert [c.text for c in cases(rt)] == ["小区门口路灯坏了", "来电反映：楼上漏水"]


# -- finding 9 (part): voice fields ------------------------------------------------------------------
def test_bad_confidence_keeps_the_call_and_its_case(phone, rt, demo):
    phone.post("/twilio/voice", call_params(phone))
    response = phone.post("/twilio/voice/speech", call_params(phone, SpeechResult="楼上漏水好几天了", Confidence="abc"))
    assert response.status_code == 200
    phone.drain()
    with rt.db.session() as session:
        call = session.scalars(sa.select(Call)).one()
        assert call.transcript == "楼上漏水好几天了" and call.confidence is None and call.inbound_id
    assert len(cases(rt)) == 1


def test_bad_duration_and_javascript_recording_url_keep_the_call_without_a_link(phone, rt, demo, client):
    phone.post("/twilio/voice", call_params(phone))
    response = phone.post("/twilio/voice/recording", call_params(
        phone, RecordingSid="RE1", RecordingDuration="xx", RecordingUrl="javascript:alert(document.cookie)"))
    assert response.status_code == 204
    phone.drain()
    with rt.db.session() as session:
        call = session.scalars(sa.select(Call)).one()
        assert call.recording_url is None and call.recording_seconds == 0 and call.inbound_id
    [case] = cases(rt)
    assert "javascript" not in case.text and "录音地址无效" in case.text
    ok = phone.post("/twilio/voice/recording", call_params(
        phone, CallSid="CA" + "2" * 32, RecordingSid="RE2", RecordingDuration="12",
        RecordingUrl="http://api.twilio.com/rec/RE2"))
    assert ok.status_code == 204
    with rt.db.session() as session:
        assert session.scalars(sa.select(Call).where(Call.recording_sid == "RE2")).one().recording_url is None



# -- finding 3: no default secrets -----------------------------------------------------------------
def test_without_a_twilio_token_only_the_instances_own_token_signs(phone, rt, demo, settings):
    from workers.settings import load_settings

    assert settings.dev_twilio_token and len(settings.twilio_auth_token) == 64
    again = load_settings({"GRIDLINE_INSTANCE_PATH": str(settings.instance_path),
                           "GRIDLINE_DATABASE_URL": settings.database_url})
    assert again.twilio_auth_token == settings.twilio_auth_token  # kept in the instance folder
    params = phone.sms_params(RESIDENT_G1, "路灯坏了")
    from twilio.request_validator import RequestValidator

    public = RequestValidator("gridline-dev-token").compute_signature("http://localhost/twilio/sms", params)
    assert phone.post("/twilio/sms", params, signature=public).status_code == 403
    assert inbound_rows(rt) == []
    assert phone.post("/twilio/sms", params).status_code == 200  # signed with the instance's token


def test_serve_refuses_a_public_address_with_dev_credentials(app, users):
    result = run(app, "serve", "--host", "0.0.0.0", "--port", "5999")
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert "拒绝在 0.0.0.0 上启动" in line and "TWILIO_AUTH_TOKEN" in line and "admin" in line
