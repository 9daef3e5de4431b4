"""Figures over a period, against hand-counted cases driven through real SMS commands (signed
webhook, real RQ worker); the stats API per the contract; `gridline stats`; xlsx exports; and
access applied inside the query for lists, counts and figures."""
from __future__ import annotations

import io
import json
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import RESIDENT_G1, RESIDENT_G1_B, RESIDENT_XINHE, cases
from tests.test_casework import leader, member
from tests.test_console_api import login, token_for
from tests.test_imports import run

RESIDENT_G1_C, RESIDENT_G1_D = "+8613805710003", "+8613805710004"  # more residents of 湖畔社区第1网格
NOV = {"from": "2026-11-01", "to": "2026-11-30"}


@pytest.fixture
def users(app, demo):
    run(app, "demo")
    return app


@pytest.fixture
def month(phone, rt, users, clock):
    """Hand-counted November (plus one October case outside the period):

    lamp  (G1, resident)   acknowledged, resolved the same day by the grid member, rated 满意 -> closed
    leak  (G1, resident)   returned to the community, transferred to the housing bureau, resolved there,
                           rated 不满意 -> reopened (not closed)
    rubbish (新河村 G1)     open
    fight (G1, stability)  open, confidential
    old   (G1, October)    outside November
    November in 东湖街道: received 4, closed 1 (lamp): 办结率 1/4, 按期 1/1, 一次 1/1, 镇街以下 1/1;
    rated 2 (满意 1, 不满意 1): 满意率 1/2.
    """
    clock.set(datetime(2026, 10, 14, 10, 0))
    phone.text(RESIDENT_G1_C, "小区健身器材坏了，请派人修一下")
    clock.set(datetime(2026, 11, 18, 10, 0))
    phone.text(RESIDENT_G1, "小区门口的路灯坏了好几天")
    phone.text(RESIDENT_G1_B, "我家楼上漏水好几天了，物业不管")
    phone.text(RESIDENT_XINHE, "村口的路灯坏了好几天，晚上很黑")
    phone.text(RESIDENT_G1_D, "村东头两伙人打起来了")
    old, lamp, leak, rubbish, fight = cases(rt)
    grid_member = member(rt, "DH-S1-C1-G1-T")
    phone.text(grid_member, f"受理 {lamp.number}")
    clock.advance(hours=2)
    phone.text(grid_member, f"办结 {lamp.number} 已更换灯泡")
    phone.text(RESIDENT_G1, "1")
    phone.text(grid_member, f"退回 {leak.number} 属于物业维修范围")
    phone.text(leader(rt, "DH-S1-C1-GZZ"), f"转办 {leak.number} DH-HOUSI")
    phone.text(member(rt, "DH-HOUSI"), f"办结 {leak.number} 已督促物业维修")
    phone.text(RESIDENT_G1_B, "3")
    by_number = {c.number: c for c in cases(rt)}
    assert by_number[lamp.number].status == "closed" and by_number[leak.number].status == "assigned"
    assert fight.category == "stability"
    return {"lamp": lamp.number, "leak": leak.number, "rubbish": rubbish.number, "fight": fight.number,
            "old": old.number, "grid_member": grid_member}


def api(client, app, user, **params):
    response = client.get("/api/v1/stats", query_string=params,
                          headers={"Authorization": f"Bearer {token_for(app, user)}"})
    return response.status_code, response.get_json()


def test_figures_are_the_hand_counted_ones(client, users, month):
    status, data = api(client, users, "admin", **NOV, by="community")
    assert status == 200
    assert set(data) >= {"from", "to", "area", "totals", "rows"} and (data["from"], data["to"]) == ("2026-11-01", "2026-11-30")
    t = data["totals"]
    assert (t["received"], t["closed"], t["on_time"], t["first_time"], t["locally"], t["rated"], t["satisfied"]) == (4, 1, 1, 1, 1, 2, 1)
    assert (t["closure_rate"], t["on_time_rate"], t["first_time_rate"], t["satisfaction_rate"], t["local_rate"]) == (0.25, 1.0, 1.0, 0.5, 1.0)
    assert (t["patrol"], t["on_the_spot"], t["on_the_spot_rate"]) == (0, 0, 0.0)
    assert t["avg_resolve_hours"] == pytest.approx(2.0, abs=0.05)
    rows = {r["key"]: r for r in data["rows"]}
    assert {k: (r["name"], r["received"], r["closed"]) for k, r in rows.items()} == {
        "DH-S1-C1": ("湖畔社区", 3, 1), "DH-S1-C2": ("新河村", 1, 0)}
    for row in data["rows"]:
        assert {"key", "name", "received", "closed", "closure_rate", "on_time_rate", "first_time_rate",
                "satisfaction_rate", "patrol", "on_the_spot"} <= set(row)


def test_period_and_area_select_the_cohort(client, users, month):
    assert api(client, users, "admin", **{"from": "2026-10-01", "to": "2026-10-31"})[1]["totals"]["received"] == 1
    assert api(client, users, "admin", **{"from": "2026-10-01", "to": "2026-11-30"})[1]["totals"]["received"] == 5
    assert api(client, users, "admin")[1]["totals"]["received"] == 4  # default: this month (November 2026)
    _, grid = api(client, users, "admin", **NOV, area="DH-S1-C1-G1", by="grid")
    assert grid["totals"]["received"] == 3 and [r["key"] for r in grid["rows"]] == ["DH-S1-C1-G1"]
    _, streets = api(client, users, "admin", **NOV, by="street")
    assert [(r["key"], r["received"]) for r in streets["rows"]] == [("DH-S1", 4)]


def test_breakdowns_by_team_member_department_and_category(client, users, month, rt):
    _, teams = api(client, users, "admin", **NOV, by="team")
    assert {r["key"]: r["closed"] for r in teams["rows"]}["DH-S1-C1-G1-T"] == 1
    _, members = api(client, users, "admin", **NOV, by="member")
    lamp_man = [r for r in members["rows"] if r["acknowledged"] == 1]
    assert len(lamp_man) == 1 and lamp_man[0]["closed"] == 1 and "湖畔社区第1网格" in lamp_man[0]["name"]
    _, departments = api(client, users, "admin", **NOV, by="department")
    assert {r["key"]: r["received"] for r in departments["rows"]}["housing_bureau"] >= 2
    _, categories = api(client, users, "admin", **NOV, by="category")
    assert {r["key"]: r["received"] for r in categories["rows"]} == {"livelihood": 3, "stability": 1}


def test_scope_is_applied_to_the_figures(client, users, month, rt):
    _, operator = api(client, users, "operator", **NOV)
    assert operator["totals"]["received"] == 3  # not the confidential fight
    _, supervisor = api(client, users, "supervisor", **NOV)
    assert supervisor["totals"]["received"] == 4
    run(users, "users", "add", "xishan", "--role", "supervisor", "--area", "DH-S2", "--password", "xishan-pass-1")
    _, other_street = api(client, users, "xishan", **NOV)
    assert other_street["totals"]["received"] == 0
    assert api(client, users, "xishan", **NOV, area="DH-S1")[0] == 403
    _, grid_team = api(client, users, "member", **NOV)
    assert grid_team["totals"]["received"] == 2  # lamp and fight; the leak went on to the housing bureau


def test_lists_in_sql_agree_with_the_access_rules_case_by_case(client, users, month, rt):
    from gateway.caseviews import viewer_of, visible
    from models import Case, User

    run(users, "users", "add", "xishan", "--role", "supervisor", "--area", "DH-S2", "--password", "xishan-pass-1")
    for username in ("admin", "operator", "supervisor", "member", "member2", "xishan"):
        auth = {"Authorization": f"Bearer {token_for(users, username)}"}
        listed = {c["number"] for c in client.get("/api/v1/cases", headers=auth).get_json()["cases"]}
        with rt.db.session() as session:
            viewer = viewer_of(session.scalar(sa.select(User).where(User.username == username)))
            expected = {c.number for c in session.scalars(sa.select(Case)) if visible(session, viewer, c)}
        assert listed == expected, username


@pytest.mark.parametrize("params, message", [
    ({"from": "2026-13-01"}, "from"), ({"from": "2026-11-30", "to": "2026-11-01"}, "晚于"),
    ({"by": "planet"}, "by"), ({"area": "NOPE"}, "NOPE"),
])
def test_bad_stats_parameters_get_400(client, users, params, message):
    status, data = api(client, users, "admin", **params)
    assert status == 400 and message in data["error"]


def test_bad_paging_gets_400(client, users):
    auth = {"Authorization": f"Bearer {token_for(users, 'admin')}"}
    for query in ("per_page=0", "per_page=201", "page=0", "page=x", "per_page=-5"):
        response = client.get(f"/api/v1/cases?{query}", headers=auth)
        assert response.status_code == 400 and "error" in response.get_json(), query
    login(client, "admin")
    assert client.get("/console/?page=0").status_code == 400
    assert client.get("/console/worklogs?per_page=0").status_code == 400


def test_gridline_stats_table_json_and_xlsx(users, month, tmp_path):
    from openpyxl import load_workbook

    out = run(users, "stats", "--from", "2026-11-01", "--to", "2026-11-30", "--by", "street", "--json")
    data = json.loads(out.output)
    assert data["totals"]["received"] == 4 and data["rows"][0]["name"] == "东湖街道"
    table = run(users, "stats", "--from", "2026-11-01", "--to", "2026-11-30", "--xlsx", str(tmp_path / "f.xlsx"))
    assert "办结率" in table.output and "25.0%" in table.output
    sheet = load_workbook(tmp_path / "f.xlsx").active
    header = [c.value for c in sheet[2]]
    assert header[:4] == ["编码", "名称", "受理", "办结"] and sheet["B3"].value == "合计" and sheet["C3"].value == 4
    assert run(users, "stats", "--from", "nope").exit_code == 2


def test_console_dashboard_drills_down_and_exports(client, users, month):
    login(client, "supervisor")
    page = client.get("/console/dashboard?from=2026-11-01&to=2026-11-30").data.decode()
    assert 'id="closure-rate">25.0%<' in page and 'id="satisfaction">50.0%<' in page
    assert "湖畔社区" in page and "area=DH-S1-C1" in page  # the street's communities, each a link down
    grid = client.get("/console/dashboard?from=2026-11-01&to=2026-11-30&area=DH-S1-C1").data.decode()
    assert "湖畔社区第1网格" in grid and 'id="received">3<' in grid
    ranking = client.get("/console/ranking?from=2026-11-01&to=2026-11-30&by=community&sort=closure_rate").data.decode()
    assert ranking.index("湖畔社区") < ranking.index("新河村")
    from openpyxl import load_workbook

    export = client.get("/console/cases.xlsx?area=DH-S1-C1")
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.data)).active
    rows = list(sheet.values)
    assert rows[0][:3] == ("编号", "受理时间", "状态") and len(rows) == 1 + 4  # October's case too, no period given
    lamp = next(r for r in rows if r[0] == month["lamp"])
    assert lamp[1] == datetime(2026, 11, 18, 10, 0, lamp[1].second, lamp[1].microsecond).replace(microsecond=0) or \
        lamp[1].strftime("%Y-%m-%d %H") == "2026-11-18 10"  # Beijing time, not UTC
    assert lamp[2] == "已结案" and "****" in lamp[10]
    from models import AccessRecord

    with users.extensions["gridline"].db.session() as session:
        [exported] = session.scalars(sa.select(AccessRecord).where(AccessRecord.action == "export")).all()
        assert exported.username == "supervisor" and "4 件" in exported.detail and "area=DH-S1-C1" in exported.detail
    figures = client.get("/console/figures.xlsx?from=2026-11-01&to=2026-11-30")
    assert load_workbook(io.BytesIO(figures.data)).active["C3"].value == 4


def _bulk_cases(rt, area_code: str, n: int, start: datetime, category: str = "livelihood") -> None:
    from models import Area, Case

    with rt.db.session() as session:
        area_id = session.scalar(sa.select(Area.id).where(Area.code == area_code))
        session.execute(sa.insert(Case), [
            {"status": "assigned", "category": category, "channel": "sms", "text": f"批量案件{i}", "area_id": area_id,
             "created_at": start + timedelta(minutes=i), "classification": {}, "search_tokens": ""}
            for i in range(n)])


def test_a_supervisor_sees_all_of_their_cases_however_many_others_there_are(client, users, rt):
    """The old list looked at the newest 5,000 cases of the district and filtered in Python."""
    _bulk_cases(rt, "DH-S1-C1-G1", 120, datetime(2026, 1, 5))
    _bulk_cases(rt, "DH-S2-C1-G1", 5_100, datetime(2026, 6, 1))
    _bulk_cases(rt, "DH-S1-C1-G1", 3, datetime(2026, 2, 5), category="petition")
    auth = {"Authorization": f"Bearer {token_for(users, 'supervisor')}"}
    listed = client.get("/api/v1/cases?per_page=200&page=1", headers=auth).get_json()
    assert listed["total"] == 123 and listed["pages"] == 1 and len(listed["cases"]) == 123
    operator = {"Authorization": f"Bearer {token_for(users, 'operator')}"}
    assert client.get("/api/v1/cases?per_page=1", headers=operator).get_json()["total"] == 5_220  # no petitions
    status, data = api(client, users, "supervisor", **{"from": "2026-01-01", "to": "2026-12-31"})
    assert data["totals"]["received"] == 123
    member_view = {"Authorization": f"Bearer {token_for(users, 'member')}"}
    assert client.get("/api/v1/cases", headers=member_view).get_json()["total"] == 0  # none handled by the team


def test_search_by_text_number_and_phone(client, users, month):
    auth = {"Authorization": f"Bearer {token_for(users, 'admin')}"}

    def numbers(q):
        return {c["number"] for c in client.get("/api/v1/cases", query_string={"q": q}, headers=auth).get_json()["cases"]}

    assert numbers("路灯坏") == {month["lamp"], month["rubbish"]}
    assert numbers("漏水") == {month["leak"]}
    assert numbers(month["fight"]) == {month["fight"]}
    assert numbers("138 0571 0002") == {month["leak"]}
    assert numbers("灯") == {month["lamp"], month["rubbish"]}  # one character: a scan, still found
    operator = {"Authorization": f"Bearer {token_for(users, 'operator')}"}
    found = client.get("/api/v1/cases", query_string={"q": "打起来"}, headers=operator).get_json()
    assert found["total"] == 0  # the confidential fight stays out of an operator's search
