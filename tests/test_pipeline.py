"""A resident's SMS becomes a routed case: end to end through the signed webhook and a real
RQ worker. Each test checks which team got which SMS and what the resident was told."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from models import Case, InboundMessage
from tests.conftest import (RESIDENT_G1, RESIDENT_G1_B, RESIDENT_XINHE, UNKNOWN, cases, events, outbox,
                            phones_of)


def sent_to(rt, kind: str | None = None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for m in outbox(rt, kind=kind):
        out.setdefault(m.to, []).append(m.body)
    return out


def test_fight_goes_to_grid_team_street_centre_and_police_with_a_receipt(phone, rt, demo):
    phone.text(RESIDENT_G1, "村东头两伙人打起来了")
    [case] = cases(rt)
    assert (case.category, case.urgency, case.status) == ("stability", "urgent", "assigned")
    assert case.team.code == "DH-S1-C1-G1-T" and case.area.code == "DH-S1-C1-G1"

    notices = sent_to(rt, "team_notice")
    grid_team = phones_of(rt, "DH-S1-C1-G1-T")
    street_leader = phones_of(rt, "DH-S1-CMD", roles=("leader",))
    police_leader = phones_of(rt, "DH-S1-PCS", roles=("leader",))
    assert set(notices) == grid_team | street_leader | police_leader
    for member in grid_team:
        [body] = notices[member]
        assert f"新案件{case.number}" in body and "维稳·紧急" in body and "湖畔社区第1网格" in body
        assert "贺*(138****0001)" in body and "村东头两伙人打起来了" in body
        assert f"受理 {case.number}" in body
        assert "13805710001" not in body  # staff see the masked number only
    for leader in street_leader | police_leader:
        assert notices[leader][0].startswith(f"【网格通】知会：案件{case.number}")

    [receipt] = outbox(rt, to=RESIDENT_G1, kind="receipt")
    assert f"编号{case.number}" in receipt.body and "湖畔社区第1网格服务团队" in receipt.body
    assert "如有人身危险请立即拨打110" in receipt.body  # urgent: a call for danger now, not a deadline
    assert events(rt, case.id) == ["received", "classified", "assigned"]
    with rt.db.session() as session:
        message = session.scalars(sa.select(InboundMessage)).one()
        assert (message.status, message.outcome, message.case_id) == ("processed", "case_opened", case.id)


def test_deadlines_come_from_the_rules(phone, rt, demo, clock):
    from models import to_local

    phone.text(RESIDENT_G1, "村东头两伙人打起来了")  # urgent: wall-clock 15 minutes / 12 hours
    [case] = cases(rt)
    assert case.ack_due_at - case.created_at == timedelta(minutes=15)
    assert case.due_at - case.created_at == timedelta(hours=12)
    clock.set(datetime(2026, 11, 20, 16, 0))  # Friday 16:00: 4 working hours run into Monday
    phone.text(RESIDENT_XINHE, "楼上卫生间漏水，天花板一直滴水")
    leak = cases(rt)[1]
    minute = lambda value: to_local(value).replace(tzinfo=None, second=0, microsecond=0)  # noqa: E731
    assert minute(leak.ack_due_at) == datetime(2026, 11, 23, 11, 0)
    assert minute(leak.due_at) == datetime(2026, 11, 27, 16, 0)  # 5 working days


def test_livelihood_goes_to_grid_team_and_informs_the_department(phone, rt, demo):
    phone.text(RESIDENT_XINHE, "楼上卫生间漏水，天花板一直滴水，物业不管")
    [case] = cases(rt)
    assert (case.category, case.subcategory, case.department) == ("livelihood", "urban_construction", "housing_bureau")
    assert case.team.code == "DH-S1-C2-G1-T"
    assert [ct.team.code for ct in case.informed] == ["DH-HOUSI"]
    notices = sent_to(rt, "team_notice")
    assert set(notices) == phones_of(rt, "DH-S1-C2-G1-T") | phones_of(rt, "DH-HOUSI", roles=("leader",))


def test_a_learned_lexicon_routes_a_city_s_own_words(phone, rt, demo, tmp_path):
    """GRIDLINE_LEXICON in a running system: words the stock rules do not know (嘀嗒拼车, a
    carpooling app) reach the transport bureau once the city's past cases have taught them."""
    from classifier.learn import learn

    past = [(t, "transport") for t in ["嘀嗒拼车乱加价", "嘀嗒拼车司机绕远", "嘀嗒拼车爽约不来"]] + \
           [(t, "health") for t in ["卫生室医生不在", "卫生室没有药", "卫生室关门了"]]
    lexicon = tmp_path / "lexicon.json"
    learn(rt.classifier, past).save(lexicon)
    rt.settings = rt.settings.replace(lexicon_path=lexicon)
    rt.__dict__.pop("classifier", None)
    phone.text(RESIDENT_XINHE, "嘀嗒拼车又乱收钱")
    [case] = cases(rt)
    assert (case.category, case.subcategory, case.department) == ("livelihood", "transport", "transport_bureau")
    assert [ct.team.code for ct in case.informed] == ["DH-TRANS"]
    assert phones_of(rt, "DH-TRANS", roles=("leader",)) <= set(sent_to(rt, "team_notice"))


def test_legal_aid_goes_to_the_justice_office_and_informs_the_grid(phone, rt, demo):
    phone.text(RESIDENT_G1, "想申请法律援助，老板欠款不还要打官司")
    [case] = cases(rt)
    assert case.category == "legal_aid" and case.team.code == "DH-S1-SFS"
    assert [ct.team.code for ct in case.informed] == ["DH-S1-C1-G1-T"]
    assert set(sent_to(rt, "team_notice")) == phones_of(rt, "DH-S1-SFS") | phones_of(rt, "DH-S1-C1-G1-T", roles=("leader",))


def test_petition_goes_to_the_petition_office_and_informs_the_street(phone, rt, demo):
    phone.text(RESIDENT_G1, "拆迁补偿款一直不到位，我们准备上访")
    [case] = cases(rt)
    assert case.category == "petition" and case.team.code == "DH-S1-XFB"
    assert [ct.team.code for ct in case.informed] == ["DH-S1-CMD"]


def test_unclassifiable_text_goes_to_district_triage(phone, rt, demo):
    phone.text(RESIDENT_G1, "有件事想当面反映，麻烦联系我")
    [case] = cases(rt)
    assert (case.category, case.status, case.team.code) == ("unclassified", "triage", "DH-CMD")
    assert set(sent_to(rt, "team_notice")) == phones_of(rt, "DH-CMD")
    [receipt] = outbox(rt, to=RESIDENT_G1, kind="receipt")
    assert "东湖区综合指挥中心" in receipt.body


def test_unregistered_sender_is_triaged_asked_where_and_routed_on_answer(phone, rt, demo):
    phone.text(UNKNOWN, "路灯坏了好几天了，晚上出门很危险")
    [case] = cases(rt)
    assert (case.status, case.team.code, case.area, case.awaiting) == ("triage", "DH-CMD", None, "location")
    [question] = outbox(rt, to=UNKNOWN)
    assert f"编号{case.number}" in question.body and "社区（村）名称或详细地址" in question.body

    with rt.db.session() as session:  # the answer comes after the 10-minute join window
        session.get(Case, case.id).last_message_at -= timedelta(minutes=11)
    phone.text(UNKNOWN, "我住新河村三组")
    [case] = cases(rt)
    assert case.area.code == "DH-S1-C2" and case.awaiting is None
    # A community has no grid team: the routing fallback hands it to the community workstation.
    assert (case.team.code, case.status) == ("DH-S1-C2-GZZ", "assigned")
    assert phones_of(rt, "DH-S1-C2-GZZ") <= {m.to for m in outbox(rt, kind="team_notice")}
    located = outbox(rt, to=UNKNOWN)[-1]
    assert "已确认您在新河村" in located.body and case.number in located.body
    assert "located" in events(rt, case.id)


def test_unregistered_sender_naming_a_grid_in_the_report_is_routed_at_once(phone, rt, demo):
    phone.text(UNKNOWN, "新河1网格这边路灯坏了好几天了")
    [case] = cases(rt)
    assert (case.area.code, case.team.code, case.status) == ("DH-S1-C2-G1", "DH-S1-C2-G1-T", "assigned")
    [receipt] = outbox(rt, to=UNKNOWN)
    assert receipt.kind == "receipt" and "新河村第1网格服务团队" in receipt.body


def test_unrecognised_location_answer_is_recorded_and_left_to_operators(phone, rt, demo):
    phone.text(UNKNOWN, "路灯坏了")
    with rt.db.session() as session:
        session.scalars(sa.select(Case)).one().last_message_at -= timedelta(minutes=11)
    phone.text(UNKNOWN, "就在那个大桥下面")
    [case] = cases(rt)
    assert case.awaiting is None and case.team.code == "DH-CMD"
    assert "未能识别该地址" in outbox(rt, to=UNKNOWN)[-1].body
    assert "location_unknown" in events(rt, case.id)


def test_second_part_within_ten_minutes_joins_the_case(phone, rt, demo):
    phone.text(RESIDENT_G1, "我家楼上漏水")
    phone.text(RESIDENT_G1, "已经三天了，物业一直不来修")
    [case] = cases(rt)
    assert "已经三天了" in case.text
    assert events(rt, case.id)[-1] == "resident_message"
    receipt, joined = outbox(rt, to=RESIDENT_G1)  # told where it went, not a second receipt
    assert joined.kind == "command_reply" and f"已将您的补充内容记入案件{case.number}" in joined.body
    additions = [m for m in outbox(rt, kind="team_notice") if "居民补充" in m.body]
    assert {m.to for m in additions} == phones_of(rt, "DH-S1-C1-G1-T", roles=("leader",))


def test_later_message_about_something_else_opens_a_new_case(phone, rt, demo, clock):
    phone.text(RESIDENT_G1, "我家楼上漏水")
    clock.advance(minutes=11)
    phone.text(RESIDENT_G1, "公司拖欠工资三个月了")
    assert [c.category for c in cases(rt)] == ["livelihood", "livelihood"]
    assert [c.subcategory for c in cases(rt)] == ["urban_construction", "labor_social_security"]


def test_same_category_within_seven_days_is_a_repeat_not_a_new_case(phone, rt, demo, clock):
    phone.text(RESIDENT_G1, "村东头两伙人打起来了")
    clock.advance(days=2)
    phone.text(RESIDENT_G1, "又打起来了，还是那两家人")
    [case] = cases(rt)
    assert case.repeat_count == 1 and "还是那两家人" in case.text
    assert events(rt, case.id)[-1] == "repeat"
    assert "第2次反映" in outbox(rt, to=RESIDENT_G1)[-1].body
    repeat_notes = [m for m in outbox(rt, kind="team_notice") if m.body.startswith("【网格通】重复件")]
    assert {m.to for m in repeat_notes} == phones_of(rt, "DH-S1-C1-G1-T", roles=("leader",))
    clock.advance(days=6)  # past the window: a new case
    phone.text(RESIDENT_G1, "又打起来了")
    assert len(cases(rt)) == 2


def test_message_starting_with_a_case_number_joins_that_case(phone, rt, demo):
    phone.text(RESIDENT_G1, "我家楼上漏水")
    first = cases(rt)[0]
    with rt.db.session() as session:
        session.get(Case, first.id).last_message_at -= timedelta(hours=2)
    phone.text(RESIDENT_G1, f"{first.number} 现在水漏到客厅了")
    assert len(cases(rt)) == 1
    assert "现在水漏到客厅了" in cases(rt)[0].text
    assert f"已将您的补充内容记入案件{first.number}" in outbox(rt, to=RESIDENT_G1)[-1].body


def test_a_case_number_that_is_not_theirs_does_not_join(phone, rt, demo):
    phone.text(RESIDENT_G1_B, "我家楼上漏水")
    other = cases(rt)[0]
    phone.text(RESIDENT_G1, f"{other.number} 路灯坏了")
    assert len(cases(rt)) == 2


def test_status_query_lists_open_cases(phone, rt, demo):
    phone.text(RESIDENT_G1, "查询")
    assert "没有办理中的案件" in outbox(rt, to=RESIDENT_G1)[-1].body
    phone.text(RESIDENT_G1, "我家楼上漏水")
    case = cases(rt)[0]
    phone.text(RESIDENT_G1, "  查询。")
    reply = outbox(rt, to=RESIDENT_G1)[-1]
    assert reply.kind == "status_update"
    assert f"{case.number}已派单（湖畔社区第1网格服务团队）" in reply.body
    assert len(cases(rt)) == 1


def test_opt_out_confirms_once_then_nothing_and_opt_in_restores(phone, rt, demo):
    phone.text(RESIDENT_G1, "退订")
    [confirmation] = outbox(rt, to=RESIDENT_G1)
    assert confirmation.kind == "opt_out" and "您已退订" in confirmation.body
    phone.text(RESIDENT_G1, "ｔｄ")  # full width, lower case: still opt-out, and no second confirmation
    assert len(outbox(rt, to=RESIDENT_G1)) == 1
    phone.text(RESIDENT_G1, "村东头两伙人打起来了")  # a report still becomes a case ...
    [case] = cases(rt)
    receipt = outbox(rt, to=RESIDENT_G1, kind="receipt")[0]
    assert receipt.status == "suppressed"  # ... but the resident is sent nothing
    assert phones_of(rt, "DH-S1-C1-G1-T") <= {m.to for m in outbox(rt, kind="team_notice") if m.status == "stored"}
    phone.text(RESIDENT_G1, "订阅")
    assert outbox(rt, to=RESIDENT_G1)[-1].body.endswith("您已恢复接收本平台短信。")
    assert outbox(rt, to=RESIDENT_G1)[-1].status == "stored"


def test_member_reports_from_their_grid(phone, rt, demo):
    member = sorted(phones_of(rt, "DH-S2-C2-G2-T", roles=("member",)))[0]
    phone.text(member, "桃源路有人乱倒垃圾，垃圾桶都满了")
    [case] = cases(rt)
    assert case.area.code == "DH-S2-C2-G2" and case.team.code == "DH-S2-C2-G2-T"


def test_every_inbound_message_has_an_outcome(phone, rt, demo):
    for sender, body in [(RESIDENT_G1, "路灯坏了"), (RESIDENT_G1, "查询"), ("bogus", "hi"), (UNKNOWN, ""),
                         (RESIDENT_XINHE, "TD"), (RESIDENT_XINHE, "START")]:
        phone.text(sender, body)
    with rt.db.session() as session:
        rows = session.scalars(sa.select(InboundMessage).order_by(InboundMessage.id)).all()
    assert [r.outcome for r in rows] == ["case_opened", "status_query", "invalid_sender", "empty", "opted_out", "opted_in"]
    assert all(r.processed_at is not None for r in rows)
