"""Console and JSON API through Flask's client: login, CSRF, lockout, access by role and area,
call-note intake, actions, recategorisation, token API."""
from __future__ import annotations

import json
import re

import pytest

from tests.conftest import RESIDENT_G1, cases, drain_queues, events, outbox
from tests.test_imports import run


@pytest.fixture
def users(app, demo):
    result = run(app, "demo")
    assert "控制台演示账号" in result.output
    return app


def login(client, username, password="gridline-demo"):
    page = client.get("/console/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.data.decode()).group(1)
    return client.post("/console/login", data={"username": username, "password": password, "csrf": token})


def csrf(client, path="/console/"):
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).data.decode()).group(1)


def test_pages_need_login(client, users):
    for path in ("/console/", "/console/dashboard", "/console/intake", "/console/cases/100001"):
        response = client.get(path)
        assert response.status_code == 302 and "/console/login" in response.headers["Location"]


def test_login_without_csrf_is_refused(client, users):
    assert client.post("/console/login", data={"username": "admin", "password": "gridline-demo"}).status_code == 400


def test_lockout_after_five_failures(client, users):
    for _ in range(5):
        assert login(client, "operator", "wrong-password").status_code == 401
    locked = login(client, "operator")
    assert locked.status_code == 429 and "账号已锁定" in locked.data.decode()


def test_operator_enters_a_call_and_the_caller_gets_the_receipt(client, users, rt):
    assert login(client, "operator").status_code == 302
    token = csrf(client, "/console/intake")
    response = client.post("/console/intake", data={"csrf": token, "phone": "138 0571 0001",
                                                     "notes": "来电反映：小区门口路灯坏了一个星期，晚上很黑"})
    [case] = cases(rt)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/console/cases/{case.number}")
    assert (case.channel, case.subcategory, case.team.code) == ("operator", "urban_construction", "DH-S1-C1-G1-T")
    drain_queues(rt)
    [receipt] = outbox(rt, to=RESIDENT_G1, kind="receipt")
    assert f"编号{case.number}" in receipt.body and receipt.status == "stored"
    page = client.get(f"/console/cases/{case.number}").data.decode()
    assert "路灯" in page and "办理轨迹" in page


def test_intake_rejects_a_bad_phone_with_a_clear_message(client, users, rt):
    login(client, "operator")
    response = client.post("/console/intake", data={"csrf": csrf(client, "/console/intake"), "phone": "12", "notes": "路灯坏了"})
    assert response.status_code == 422 and "来电号码" in response.data.decode()
    assert cases(rt) == []


def test_classification_preview(client, users):
    login(client, "operator")
    data = client.get("/console/classify?text=楼上漏水好几天了").json
    assert data["label"] == "民生·城乡建设" and {"keyword": "漏水"} .items() <= data["matched"][0].items()


def test_member_sees_their_case_and_acts_another_grid_gets_403(client, users, rt, phone):
    phone.text(RESIDENT_G1, "我家楼上漏水好几天了")
    [case] = cases(rt)
    login(client, "member2")  # 桃源村第2网格
    assert client.get(f"/console/cases/{case.number}").status_code == 403
    assert case.number not in client.get("/console/").data.decode()
    client.post("/console/logout", data={"csrf": csrf(client)})
    login(client, "member")  # 湖畔社区第1网格: the handling team
    assert case.number in client.get("/console/").data.decode()
    response = client.post(f"/console/cases/{case.number}/act",
                           data={"csrf": csrf(client, f"/console/cases/{case.number}"), "action": "note", "text": "已联系物业"})
    assert response.status_code == 302
    assert cases(rt)[0].status == "in_progress"
    assert events(rt, case.id)[-1] == "progress"
    assert outbox(rt, to=RESIDENT_G1)[-1].body.endswith("进展：已联系物业")


def test_stability_cases_are_hidden_from_operators_but_not_from_the_street_supervisor(client, users, rt, phone):
    phone.text(RESIDENT_G1, "村东头两伙人打起来了")
    [case] = cases(rt)
    login(client, "operator")
    assert client.get(f"/console/cases/{case.number}").status_code == 403
    client.post("/console/logout", data={"csrf": csrf(client)})
    login(client, "supervisor")  # 东湖街道: the case's area is inside
    assert client.get(f"/console/cases/{case.number}").status_code == 200


def test_recategorise_is_recorded_as_a_correction(client, users, rt, phone):
    phone.text(RESIDENT_G1, "有件事想当面反映，麻烦联系我")
    [case] = cases(rt)
    login(client, "admin")
    client.post(f"/console/cases/{case.number}/act",
                data={"csrf": csrf(client), "action": "recategorise", "category": "civil_affairs"})
    [case] = cases(rt)
    assert (case.category, case.subcategory, case.department) == ("livelihood", "civil_affairs", "civil_affairs_bureau")
    assert events(rt, case.id)[-1] == "recategorised"


def test_dashboard_figures(client, users, rt, phone):
    phone.text(RESIDENT_G1, "我家楼上漏水好几天了")
    login(client, "admin")
    page = client.get("/console/dashboard").data.decode()
    assert page.count('class="chart ') == 4 and "办结率" in page and "满意率" in page


def test_dashboard_counts_first_handling_and_town_level_closure(client, users, rt, phone):
    from tests.conftest import RESIDENT_G1_B
    from tests.test_casework import leader, member

    grid_member = member(rt, "DH-S1-C1-G1-T")
    phone.text(RESIDENT_G1, "小区门口的路灯坏了好几天")
    phone.text(RESIDENT_G1_B, "我家楼上漏水好几天了，物业不管")
    lamp, leak = (c.number for c in cases(rt))
    phone.text(grid_member, f"办结 {lamp} 已更换灯泡")                      # first handling, in the grid
    phone.text(grid_member, f"退回 {leak} 属于物业维修范围")                  # returned to the community,
    phone.text(leader(rt, "DH-S1-C1-GZZ"), f"转办 {leak} DH-HOUSI")         # sent on to the district bureau
    phone.text(member(rt, "DH-HOUSI"), f"办结 {leak} 已督促物业维修")
    login(client, "admin")
    page = client.get("/console/dashboard").data.decode()
    first_time = re.search(r'id="first-time">([^<]+)<', page).group(1)
    locally = re.search(r'id="locally">([^<]+)<', page).group(1)
    assert (first_time, locally) == ("50.0%", "50.0%")
    assert "一次办结率" in page and "镇街以下办结" in page


def test_admin_imports_csv_in_the_browser_with_line_numbers(client, users):
    import io

    login(client, "admin")
    data = {"csrf": csrf(client, "/console/import"), "kind": "residents",
            "file": (io.BytesIO("phone,name,area_code,address\n13912345678,王五,DH-S1-C1-G1,\n123,赵六,DH,\n".encode()), "r.csv")}
    page = client.post("/console/import", data=data, content_type="multipart/form-data").data.decode()
    assert "新增 1" in page and "第 3 行" in page
    login(client, "operator")
    assert client.get("/console/import").status_code == 403


# -- JSON API ----------------------------------------------------------------------------------
def token_for(app, username):
    return run(app, "token", username).output.strip()


def test_api_needs_a_valid_token(client, users):
    assert client.get("/api/v1/cases").status_code == 401
    assert client.get("/api/v1/cases", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_api_create_get_and_list(client, users, rt):
    auth = {"Authorization": f"Bearer {token_for(users, 'operator')}"}
    created = client.post("/api/v1/reports", json={"phone": "13805710001", "text": "小区门口路灯坏了"}, headers=auth)
    assert created.status_code == 201
    number = created.json["number"]
    assert created.json["team"] == "DH-S1-C1-G1-T"
    shown = client.get(f"/api/v1/cases/{number}", headers=auth).json
    assert shown["text"] == "小区门口路灯坏了" and shown["channel"] == "api" and shown["events"]
    listed = client.get("/api/v1/cases?status=assigned", headers=auth).json
    assert [c["number"] for c in listed["cases"]] == [number] and listed["total"] == 1
    bad = client.post("/api/v1/reports", json={"phone": "1", "text": "x"}, headers=auth)
    assert bad.status_code == 422 and "来电号码" in bad.json["error"]
    assert client.post("/api/v1/reports", data="not json", headers=auth).status_code == 400


def test_api_member_of_another_grid_gets_403(client, users, rt, phone):
    phone.text(RESIDENT_G1, "我家楼上漏水好几天了")
    number = cases(rt)[0].number
    other = {"Authorization": f"Bearer {token_for(users, 'member2')}"}
    assert client.get(f"/api/v1/cases/{number}", headers=other).status_code == 403
    assert client.get("/api/v1/cases", headers=other).json["total"] == 0
    mine = {"Authorization": f"Bearer {token_for(users, 'member')}"}
    assert client.get(f"/api/v1/cases/{number}", headers=mine).status_code == 200


# -- accounts ------------------------------------------------------------------------------------
def test_a_user_switched_off_by_the_cli_loses_login_sessions_and_tokens(client, users):
    auth = {"Authorization": f"Bearer {token_for(users, 'member')}"}
    assert client.get("/api/v1/cases", headers=auth).status_code == 200
    login(client, "member")
    assert client.get("/console/").status_code == 200
    assert run(users, "users", "disable", "member").output.strip() == "用户 member 已停用"
    assert client.get("/console/").status_code == 302                      # the open session ends
    assert client.get("/api/v1/cases", headers=auth).status_code == 401     # so does the token
    refused = login(client, "member")
    assert refused.status_code == 403 and "账号已停用，请联系管理员" in refused.data.decode()
    assert "用户名或密码错误" in login(client, "member", "wrong-password").data.decode()
    listed = {u["username"]: u for u in json.loads(run(users, "users", "list", "--json").output)}
    assert listed["member"]["active"] is False and listed["member"]["team"] == "DH-S1-C1-G1-T"
    run(users, "users", "add", "member", "--role", "member", "--team", "DH-S1-C1-G1-T", "--password", "gridline-demo")
    assert client.get("/api/v1/cases", headers=auth).status_code == 200     # switched on again
    assert run(users, "users", "disable", "nobody").exit_code == 2


def test_tokens_are_revoked_by_id_or_all_at_once(client, users):
    first, second = token_for(users, "operator"), token_for(users, "operator")
    listed = {u["username"]: u for u in json.loads(run(users, "users", "list", "--json").output)}
    ids = [t["id"] for t in listed["operator"]["tokens"]]
    assert len(ids) == 2
    assert run(users, "users", "revoke", "operator", str(ids[0])).output.strip() == "已撤销 operator 的 1 个令牌"
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {first}"}).status_code == 401
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {second}"}).status_code == 200
    refused = run(users, "users", "revoke", "admin", str(ids[1]))            # not admin's token
    assert refused.exit_code == 2 and f"没有令牌 {ids[1]}" in refused.output
    assert run(users, "users", "revoke", "operator").exit_code == 2          # neither ids nor --all
    assert "1 个令牌" in run(users, "users", "revoke", "operator", "--all").output
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {second}"}).status_code == 401


def test_admin_manages_accounts_in_the_console(client, users, app):
    token = token_for(users, "operator")
    login(client, "operator")
    assert client.get("/console/users").status_code == 403
    login(client, "admin")
    page = client.get("/console/users").data.decode()
    assert 'id="user-member2"' in page and "话务员" in page and "本人" in page
    token_id = re.search(r'name="token" value="(\d+)"', page).group(1)
    token_csrf = csrf(client, "/console/users")
    page = client.post("/console/users/operator/act", data={"csrf": token_csrf, "action": "revoke", "token": token_id},
                       follow_redirects=True).data.decode()
    assert f"已撤销 operator 的令牌 #{token_id}" in page
    assert client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    page = client.post("/console/users/member2/act", data={"csrf": token_csrf, "action": "disable"},
                       follow_redirects=True).data.decode()
    assert "用户 member2 已停用" in page
    assert re.search(r'id="user-member2">.*?停用', page, re.S)
    page = client.post("/console/users/admin/act", data={"csrf": token_csrf, "action": "disable"},
                       follow_redirects=True).data.decode()
    assert "不能停用自己的账号" in page
    assert client.post("/console/users/member2/act", data={"action": "enable"}).status_code in (400, 403)  # no CSRF
