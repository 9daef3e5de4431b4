"""Grid members' field work by SMS (巡查 / 上报 内容, 即办, 走访 / 日志) through the signed webhook
and a real worker: what the member is told, what the team gets, and how it counts."""
from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import cases, events, outbox
from tests.test_casework import last_to, member
from tests.test_console_api import login, token_for
from tests.test_imports import run

GRID_TEAM = "DH-S1-C1-G1-T"
NOV = {"from": "2026-11-01", "to": "2026-11-30"}


def stats(client, app, **params):
    response = client.get("/api/v1/stats", query_string={**NOV, **params},
                          headers={"Authorization": f"Bearer {token_for(app, 'admin')}"})
    assert response.status_code == 200
    return response.get_json()


def test_a_patrol_report_is_a_case_without_receipt_or_survey(phone, rt, demo, client, app):
    run(app, "demo")
    grid_member = member(rt, GRID_TEAM)
    phone.text(grid_member, "巡查：小区门口的路灯坏了好几天")
    [case] = cases(rt)
    assert (case.source, case.category, case.team.code, case.status) == ("patrol", "livelihood", GRID_TEAM, "assigned")
    assert case.reporter_member_id is not None and "patrol" in events(rt, case.id)
    told = last_to(rt, grid_member)
    assert told.kind == "command_reply" and told.body.endswith(
        f"巡查上报已立案，编号{case.number}，民生·城乡建设，交湖畔社区第1网格服务团队办理，时限{_due(case)}。")
    assert not outbox(rt, kind="receipt")
    assert outbox(rt, kind="team_notice")  # routed like any case
    phone.text(grid_member, f"受理 {case.number}")
    phone.text(grid_member, f"办结 {case.number} 已报修，路灯已亮")
    [case] = cases(rt)
    assert (case.status, case.rating) == ("closed", None)
    assert not outbox(rt, kind="survey") and not outbox(rt, kind="status_update")
    assert last_to(rt, grid_member).body.endswith(f"案件{case.number}已办结（巡查件，不回访）。")
    figures = stats(client, app)["totals"]
    assert (figures["received"], figures["patrol"], figures["closed"], figures["rated"], figures["satisfaction_rate"]) == \
        (1, 1, 1, 0, None)


def test_escalate_with_a_number_is_still_escalate(phone, rt, demo):
    from tests.conftest import RESIDENT_G1

    phone.text(RESIDENT_G1, "我家楼上漏水好几天了，物业不管")
    [case] = cases(rt)
    phone.text(member(rt, GRID_TEAM), f"上报 {case.number} 需要社区协调")
    [case] = cases(rt)
    assert case.source == "resident" and case.escalation_level == 1 and case.team.code != GRID_TEAM


def test_on_the_spot_is_opened_and_closed_at_once(phone, rt, demo, client, app):
    run(app, "demo")
    grid_member = member(rt, GRID_TEAM)
    phone.text(grid_member, "ＪＢ　小区门口的路灯坏了，已当场修好")  # full width
    [case] = cases(rt)
    assert (case.source, case.status, case.team.code) == ("on_the_spot", "closed", GRID_TEAM)
    assert case.acknowledged_at == case.resolved_at == case.closed_at == case.created_at
    assert events(rt, case.id) == ["received", "on_the_spot", "resolved", "closed"]
    assert last_to(rt, grid_member).body.endswith(f"即办件已登记并办结，编号{case.number}（民生·城乡建设）。")
    assert [m.kind for m in outbox(rt)] == ["command_reply"]  # nobody else is bothered
    figures = stats(client, app)
    assert (figures["totals"]["on_the_spot"], figures["totals"]["on_the_spot_rate"], figures["totals"]["closed"]) == (1, 1.0, 1)
    [row] = stats(client, app, by="member")["rows"]
    assert (row["on_the_spot"], row["closed"], row["acknowledged"]) == (1, 1, 1)


def test_visits_and_logs_are_kept_apart_from_cases(phone, rt, demo, client, app):
    from models import WorkLog

    run(app, "demo")
    grid_member = member(rt, GRID_TEAM)
    phone.text(grid_member, "走访 看望独居老人张大爷，身体尚好")
    phone.text(grid_member, "日志：今日巡查三次，无异常")
    phone.text(grid_member, "走访")
    assert cases(rt) == []
    with rt.db.session() as session:
        logs = session.scalars(sa.select(WorkLog).order_by(WorkLog.id)).all()
        assert [(w.kind, w.text) for w in logs] == [("visit", "看望独居老人张大爷，身体尚好"), ("log", "今日巡查三次，无异常")]
    assert last_to(rt, grid_member).body.endswith("缺少内容。格式：走访 内容")
    assert "已记入湖畔社区第1网格民情日志（走访）。" in outbox(rt, to=grid_member)[0].body
    assert stats(client, app, by="grid")["totals"]["visits"] == 2
    [row] = stats(client, app, by="member")["rows"]
    assert row["visits"] == 2
    login(client, "supervisor")
    page = client.get("/console/worklogs?from=2026-11-01&to=2026-11-30").data.decode()
    assert "看望独居老人张大爷" in page and "共 2 条" in page
    login(client, "member2")  # another street's grid
    assert "看望独居老人张大爷" not in client.get("/console/worklogs?from=2026-11-01&to=2026-11-30").data.decode()


def test_help_names_the_field_work(phone, rt, demo):
    grid_member = member(rt, GRID_TEAM)
    phone.text(grid_member, "帮助")
    body = last_to(rt, grid_member).body
    assert "巡查" in body and "即办" in body and "走访" in body


def _due(case) -> str:
    from workers.texts import local_time

    return local_time(case.due_at)
