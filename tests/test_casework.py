"""Teams work cases by SMS and residents hear back until closure: whole lifecycles through the
signed webhook and a real worker, checking every SMS and every event."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from models import Case, to_local
from tests.conftest import RESIDENT_G1, RESIDENT_XINHE, cases, events, outbox, phones_of
from workers.jobs.deadlines import sweep_deadlines


def leader(rt, team):
    return sorted(phones_of(rt, team, roles=("leader",)))[0]


def member(rt, team):
    return sorted(phones_of(rt, team, roles=("member",)))[0]


def last_to(rt, phone):
    return outbox(rt, to=phone)[-1]


@pytest.fixture
def leak(phone, rt, demo):
    phone.text(RESIDENT_G1, "我家楼上漏水好几天了，物业不管")
    [case] = cases(rt)
    return case


def test_whole_lifecycle_by_sms(phone, rt, leak):
    grid_member = member(rt, "DH-S1-C1-G1-T")
    n = leak.number
    phone.text(grid_member, f"受理 {n}")
    assert last_to(rt, grid_member).body.endswith(f"已受理案件{n}，请于{_due(rt, n)}前办结。")
    ack = last_to(rt, RESIDENT_G1)
    assert ack.kind == "status_update" and f"您的案件{n}已由湖畔社区第1网格服务团队网格员" in ack.body

    phone.text(grid_member, f"进展 {n} 已联系物业，明天上门")
    assert last_to(rt, RESIDENT_G1).body.endswith(f"案件{n}进展：已联系物业，明天上门")
    phone.text(grid_member, f"办结 {n} 楼上水管已更换，不再漏水")
    survey = last_to(rt, RESIDENT_G1)
    assert survey.kind == "survey" and "楼上水管已更换" in survey.body and "回复1满意 2基本满意 3不满意" in survey.body
    assert last_to(rt, grid_member).body.endswith(f"案件{n}已办结，已请居民评价。")

    phone.text(RESIDENT_G1, "1")
    [case] = cases(rt)
    assert (case.status, case.rating) == ("closed", "satisfied")
    assert last_to(rt, RESIDENT_G1).body.endswith(f"感谢您对案件{n}的评价！")
    assert events(rt, case.id) == ["received", "classified", "assigned", "acknowledged", "progress", "resolved",
                                   "rated", "closed"]
    from tests.test_imports import run
    import json

    shown = json.loads(run(phone.client.application, "case", "show", n, "--json").output)
    assert shown["rating"] == "satisfied"
    assert [e["actor"].split()[0] for e in shown["events"][3:6]] == ["网格员"] * 3
    assert shown["events"][4]["channel"] == "sms" and shown["events"][4]["note"] == "已联系物业，明天上门"


def _due(rt, number):
    from workers.texts import local_time

    with rt.db.session() as session:
        return local_time(Case.by_number(session, number).due_at)


@pytest.mark.parametrize("text", ["sl {n}", "ＳＬ　{n}", "ack{n}", "受理：{n}", " 受理,{n}。", "Ack {n}"])
def test_command_forms_are_tolerated(phone, rt, leak, text):
    phone.text(member(rt, "DH-S1-C1-G1-T"), text.format(n=leak.number))
    assert cases(rt)[0].status == "acknowledged"


def test_number_may_be_left_out_with_one_open_case(phone, rt, leak):
    phone.text(member(rt, "DH-S1-C1-G1-T"), "受理")
    assert cases(rt)[0].status == "acknowledged"


def test_member_of_another_grid_cannot_act(phone, rt, leak):
    outsider = member(rt, "DH-S2-C2-G1-T")
    phone.text(outsider, f"办结 {leak.number} 修好了")
    [case] = cases(rt)
    assert case.status == "assigned"
    assert last_to(rt, outsider).body.endswith(f"您无权处理案件{leak.number}（已派单，由湖畔社区第1网格服务团队办理）。")
    assert events(rt, case.id)[-1] == "command_refused"
    assert outbox(rt, to=RESIDENT_G1)[-1].kind == "receipt"  # the resident heard nothing


def test_the_street_centre_above_may_act(phone, rt, leak):
    phone.text(leader(rt, "DH-S1-CMD"), f"受理 {leak.number}")
    assert cases(rt)[0].status == "acknowledged"


@pytest.mark.parametrize("text, reply", [
    ("办结 {n}", "缺少结果。格式：办结 编号 结果"),
    ("转办 {n}", "缺少团队。格式：转办 编号 团队编号或名称"),
    ("XYZ {n}", "无法识别的指令。回复“帮助”查看指令"),
    ("受理 999999", "没有编号为999999的案件。本团队办理中：100001。"),
    ("进展 {n} ", "缺少内容"),
])
def test_malformed_or_unknown_commands_get_help_and_change_nothing(phone, rt, leak, text, reply):
    grid_member = member(rt, "DH-S1-C1-G1-T")
    before = len(events(rt, leak.id))
    phone.text(grid_member, text.format(n=leak.number))
    assert reply in last_to(rt, grid_member).body
    assert cases(rt)[0].status == "assigned"
    assert len(events(rt, leak.id)) == before


def test_illegal_step_is_refused_with_a_reason(phone, rt, leak):
    grid_member = member(rt, "DH-S1-C1-G1-T")
    phone.text(RESIDENT_G1, "查询")  # not a command from a resident
    phone.text(grid_member, f"受理 {leak.number}")
    phone.text(grid_member, f"受理 {leak.number}")
    assert last_to(rt, grid_member).body.endswith(f"案件{leak.number}已受理，不能受理。")


def test_help_and_list(phone, rt, leak, clock):
    grid_member = member(rt, "DH-S1-C1-G1-T")
    phone.text(grid_member, "帮助")
    assert "受理 编号" in last_to(rt, grid_member).body
    phone.text("+8613805710002", "村东头两伙人打起来了")
    phone.text(grid_member, "LB")
    body = last_to(rt, grid_member).body
    assert body.startswith("【网格通】办理中2件：")
    urgent = cases(rt)[1].number
    assert body.index(urgent) < body.index(leak.number)  # most urgent first
    assert len(body) <= 134


def test_return_transfer_and_escalate(phone, rt, leak):
    grid_member = member(rt, "DH-S1-C1-G1-T")
    phone.text(grid_member, f"退回 {leak.number} 属于物业维修范围，非网格职责")
    [case] = cases(rt)
    assert (case.status, case.team.code) == ("returned", "DH-S1-C1-GZZ")
    station_leader = leader(rt, "DH-S1-C1-GZZ")
    assert "被湖畔社区第1网格服务团队退回：属于物业维修范围" in last_to(rt, station_leader).body

    phone.text(station_leader, f"转办 {leak.number} DH-HOUSI")
    [case] = cases(rt)
    assert (case.status, case.team.code) == ("assigned", "DH-HOUSI")
    assert phones_of(rt, "DH-HOUSI") <= {m.to for m in outbox(rt, kind="team_notice") if f"新案件{leak.number}" in m.body}
    assert last_to(rt, RESIDENT_G1).body.endswith(f"案件{leak.number}已转区住建局办理。")

    phone.text(member(rt, "DH-HOUSI"), f"上报 {leak.number} 涉及多个部门，需要指挥中心协调")
    [case] = cases(rt)
    assert (case.team.code, case.escalation_level) == ("DH-CMD", 1)
    assert "涉及多个部门" in last_to(rt, leader(rt, "DH-CMD")).body
    assert [e for e in events(rt, case.id) if e in ("returned", "transferred", "escalated")] == [
        "returned", "transferred", "escalated"]


def test_dissatisfied_reopens_and_tells_the_team_and_leader(phone, rt, leak):
    grid_member = member(rt, "DH-S1-C1-G1-T")
    phone.text(grid_member, f"办结 {leak.number} 已处理")
    phone.text(RESIDENT_G1, "3")
    [case] = cases(rt)
    assert (case.status, case.reopen_count, case.rating) == ("assigned", 1, "dissatisfied")
    told = {m.to for m in outbox(rt, kind="team_notice") if "居民评价不满意，已重新打开" in m.body}
    assert told == phones_of(rt, "DH-S1-C1-G1-T")
    assert "已重新交湖畔社区第1网格服务团队办理" in last_to(rt, RESIDENT_G1).body


def test_rating_reply_goes_to_the_right_case_when_there_are_several(phone, rt, leak, clock):
    grid_member = member(rt, "DH-S1-C1-G1-T")
    clock.advance(minutes=20)
    phone.text(RESIDENT_G1, "村东头两伙人打起来了")
    fight = cases(rt)[1]
    phone.text(grid_member, f"办结 {leak.number} 已修好")
    clock.advance(minutes=5)
    phone.text(grid_member, f"办结 {fight.number} 已调解")
    phone.text(RESIDENT_G1, f"{leak.number} 3")  # names the leak case
    phone.text(RESIDENT_G1, "满意")  # bare: the most recently resolved, the fight
    by_number = {c.number: c for c in cases(rt)}
    assert (by_number[leak.number].status, by_number[leak.number].rating) == ("assigned", "dissatisfied")
    assert (by_number[fight.number].status, by_number[fight.number].rating) == ("closed", "satisfied")


def test_no_answer_in_three_days_closes_as_no_response(phone, rt, leak, clock):
    phone.text(member(rt, "DH-S1-C1-G1-T"), f"办结 {leak.number} 已修好")
    clock.advance(days=2)
    assert sweep_deadlines()["surveys_closed"] == 0
    clock.advance(days=1, minutes=1)
    assert sweep_deadlines()["surveys_closed"] == 1
    [case] = cases(rt)
    assert (case.status, case.rating) == ("closed", "no_response")
    assert sweep_deadlines()["surveys_closed"] == 0


def test_reminder_then_escalation_up_the_grid_on_missed_acknowledgement(phone, rt, leak, clock):
    grid_team = phones_of(rt, "DH-S1-C1-G1-T")
    with rt.db.session() as session:
        ack_due = session.get(Case, leak.id).ack_due_at
    clock.set(to_local(ack_due - timedelta(minutes=20)).replace(tzinfo=None))
    assert sweep_deadlines()["ack_reminders"] == 1
    reminders = [m for m in outbox(rt, kind="reminder")]
    assert {m.to for m in reminders} == grid_team and "须在" in reminders[0].body and "前受理" in reminders[0].body
    assert sweep_deadlines()["ack_reminders"] == 0  # once

    clock.advance(minutes=21)
    counts = sweep_deadlines()
    assert counts["ack_escalations"] == 1
    [case] = cases(rt)
    assert (case.team.code, case.overdue, case.escalation_level) == ("DH-S1-C1-GZZ", True, 1)
    escalations = outbox(rt, kind="escalation")
    assert leader(rt, "DH-S1-C1-GZZ") in {m.to for m in escalations}
    assert leader(rt, "DH-S1-C1-G1-T") in {m.to for m in escalations}
    assert "overdue" in events(rt, case.id) and "escalated" in events(rt, case.id)
    assert sweep_deadlines()["ack_escalations"] == 0  # idempotent

    clock.advance(days=1)  # the community misses its own acknowledge-by: up to the street
    sweep_deadlines()
    assert cases(rt)[0].team.code == "DH-S1-CMD"


def test_two_schedulers_escalate_once(phone, rt, leak, clock):
    from concurrent.futures import ThreadPoolExecutor

    clock.advance(days=2)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: sweep_deadlines()["ack_escalations"], range(2)))
    assert sorted(results) == [0, 1]
    assert cases(rt)[0].escalation_level == 1


def test_quiet_hours_hold_status_sms_until_seven(phone, rt, leak, clock):
    from workers.jobs.sweeps import sweep_outbound

    clock.set(datetime(2026, 11, 18, 23, 0))
    phone.text(member(rt, "DH-S1-C1-G1-T"), f"进展 {leak.number} 明天一早处理")
    held = last_to(rt, RESIDENT_G1)
    assert held.status == "held"
    assert sweep_outbound(now=clock()) == 0
    clock.set(datetime(2026, 11, 19, 7, 1))
    assert sweep_outbound(now=clock()) == 1
    phone.drain()
    assert last_to(rt, RESIDENT_G1).status == "stored"


def test_urgent_case_notices_are_not_held_at_night(phone, rt, demo, clock):
    clock.set(datetime(2026, 11, 18, 23, 30))
    phone.text(RESIDENT_XINHE, "有人持刀威胁邻居")
    assert all(m.status == "stored" for m in outbox(rt, kind="team_notice"))
    phone.text(RESIDENT_XINHE + "0"[:0], "查询")
    assert last_to(rt, RESIDENT_XINHE).status == "stored"  # a direct reply is never held


def test_status_sms_are_capped_per_case_per_day(phone, rt, leak):
    grid_member = member(rt, "DH-S1-C1-G1-T")
    for i in range(4):
        phone.text(grid_member, f"进展 {leak.number} 第{i + 1}次进展")
    statuses = [m.status for m in outbox(rt, to=RESIDENT_G1, kind="status_update")]
    assert statuses == ["stored", "stored", "stored", "suppressed"]
    assert "第4次进展" in events_notes(rt, leak.id)[-1]  # the trail keeps every note


def events_notes(rt, case_id):
    from models import CaseEvent

    with rt.db.session() as session:
        return list(session.scalars(sa.select(CaseEvent.note).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)))


def test_holiday_deadline_and_escalation_through_the_webhook(phone, rt, demo, clock):
    """Reported on the afternoon before National Day: the deadlines skip the holiday week and
    count the make-up Saturday; nothing escalates during the holiday."""
    from models import to_local

    clock.set(datetime(2026, 9, 30, 16, 0))
    phone.text(RESIDENT_XINHE, "小区路灯坏了好几天")
    [case] = cases(rt)
    minute = lambda v: to_local(v).replace(tzinfo=None, second=0, microsecond=0)  # noqa: E731
    assert minute(case.ack_due_at) == datetime(2026, 10, 8, 11, 0)   # 1.5 h on 09-30, 2.5 h on 10-08
    assert minute(case.due_at) == datetime(2026, 10, 13, 16, 0)      # 10-08, 09, 10 (make-up), 12, 13
    clock.set(datetime(2026, 10, 5, 12, 0))
    assert sweep_deadlines()["ack_escalations"] == 0
    clock.set(datetime(2026, 10, 8, 11, 1))
    assert sweep_deadlines()["ack_escalations"] == 1
    assert cases(rt)[0].team.code == "DH-S1-C2-GZZ"
