"""Issue 10 (sessions, parameters, privacy, headers): each finding of the attack report, as a user
or an attacker would meet it, through the real app, database and Redis."""
from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa

from models import AccessRecord, Case, InboundMessage, OutboundMessage, Resident, UserSession
from tests.conftest import RESIDENT_G1, RESIDENT_G1_B, RESIDENT_XINHE, cases, outbox
from tests.test_casework import member
from tests.test_console_api import csrf, login, token_for
from tests.test_imports import run


@pytest.fixture
def users(app, demo):
    assert "控制台演示账号" in run(app, "demo").output
    return app


def bearer(app, username):
    return {"Authorization": f"Bearer {token_for(app, username)}"}


def from_address(client, address):
    client.environ_base["REMOTE_ADDR"] = address
    return client


# -- finding 5: every parameter checked, 400 with a Chinese message, never a 500 -------------------
@pytest.mark.parametrize("query", [
    "per_page=-1", "per_page=0", "per_page=100000", "per_page=²", "page=0", "page=abc", "page=1e3",
    "status=bogus", "channel=fax", "category=nonsense", "overdue=maybe", "q=%00", "q=abc%00def",
    "area=%01DH", "q=" + "长" * 300,
])
def test_api_refuses_bad_list_parameters_with_400(client, users, query):
    response = client.get(f"/api/v1/cases?{query}", headers=bearer(users, "admin"))
    assert response.status_code == 400, response.data
    assert response.is_json and "参数" in response.json["error"]


def test_api_list_is_bounded_and_odd_values_are_answered(client, users, phone):
    auth = bearer(users, "admin")
    for resident in (RESIDENT_G1, RESIDENT_G1_B, RESIDENT_XINHE):
        phone.text(resident, "小区门口路灯坏了")
    assert len(client.get("/api/v1/cases?per_page=2", headers=auth).json["cases"]) == 2
    assert client.get("/api/v1/cases?per_page=200", headers=auth).status_code == 200
    assert client.get("/api/v1/cases?q=²", headers=auth).json["total"] == 0       # was a 500
    assert client.get("/api/v1/cases?q=路灯&overdue=0&category=urban_construction", headers=auth).json["total"] == 3


@pytest.mark.parametrize("number", ["²²²", "１２３４５６", "abc", "100001x", "1" * 9])
def test_api_case_ids_must_be_ascii_digits(client, users, number):
    response = client.get(f"/api/v1/cases/{number}", headers=bearer(users, "admin"))
    assert response.status_code == 400 and response.json["error"] == "案件编号应为 6 到 8 位数字"


def test_api_unknown_routes_and_methods_answer_json_in_chinese(client, users):
    auth = bearer(users, "admin")
    missing = client.get("/api/v1/nothing", headers=auth)
    assert missing.status_code == 404 and missing.json == {"error": "页面或记录不存在"}
    assert client.delete("/api/v1/cases", headers=auth).json == {"error": "不支持该请求方法"}


def test_console_refuses_bad_parameters_with_a_chinese_page(client, users):
    login(client, "admin")
    for path in ("/console/?page=²", "/console/?q=%00", "/console/?status=bogus", "/console/cases/²²²",
                 "/console/audit?case=abc"):
        response = client.get(path)
        assert response.status_code == 400, path
        assert "参数" in response.data.decode() or "案件编号" in response.data.decode()
    token = csrf(client, "/console/users")
    revoke = client.post("/console/users/operator/act", data={"csrf": token, "action": "revoke", "token": "²"})
    assert revoke.status_code == 302  # "缺少令牌编号", not a 500


def test_an_unexpected_error_answers_500_without_a_traceback(client, users, monkeypatch, caplog):
    from gateway import api

    def boom(*_args, **_kwargs):
        raise RuntimeError("db exploded for +8613805710001")

    monkeypatch.setattr(api, "find_cases", boom)
    with caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/cases", headers=bearer(users, "admin"))
    assert response.status_code == 500
    assert response.json == {"error": "服务器内部错误，已记录，请稍后再试"}
    assert "Traceback" not in response.data.decode() and "exploded" not in response.data.decode()
    assert any("unhandled error" in r.getMessage() for r in caplog.records)


def test_a_nul_byte_in_a_csv_import_is_a_rejected_row(client, users, rt):
    import io

    login(client, "admin")
    token = csrf(client, "/console/import")
    body = "phone,name,area_code,address\n13805719999,张\x00三,DH-S1-C1-G1,湖畔路1号\n13805719998,李四,DH-S1-C1-G1,湖畔路2号\n"
    response = client.post("/console/import", data={"csrf": token, "kind": "residents",
                                                    "file": (io.BytesIO(body.encode()), "r.csv")})
    page = response.data.decode()
    assert response.status_code == 200 and "控制字符" in page
    with rt.db.session() as session:
        stored = set(session.scalars(sa.select(Resident.phone).where(Resident.phone.like("+861380571999%"))))
    assert stored == {"+8613805719998"}


# -- finding 4: sessions end on logout, password change and disable; throttling ---------------------
def test_logout_ends_the_session_on_the_server(app, users):
    browser = app.test_client()
    assert login(browser, "admin").status_code == 302
    saved = browser.get_cookie("session").value
    browser.post("/console/logout", data={"csrf": csrf(browser)})
    thief = app.test_client()
    thief.set_cookie("session", saved)
    response = thief.get("/console/")
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]


def test_a_password_change_ends_every_other_session(app, users, rt):
    laptop, phone_browser = app.test_client(), app.test_client()
    login(laptop, "operator")
    login(phone_browser, "operator")
    token = csrf(laptop, "/console/password")
    wrong = laptop.post("/console/password", data={"csrf": token, "current": "nope-nope", "new": "new-password-1",
                                                   "confirm": "new-password-1"})
    assert wrong.status_code == 422 and "当前密码不正确" in wrong.data.decode()
    changed = laptop.post("/console/password", data={"csrf": token, "current": "gridline-demo",
                                                     "new": "new-password-1", "confirm": "new-password-1"})
    assert changed.status_code == 302
    assert laptop.get("/console/").status_code == 200           # this browser stays in
    assert phone_browser.get("/console/").status_code == 302    # the other one is out
    assert login(app.test_client(), "operator", "new-password-1").status_code == 302
    # The CLI resetting a password ends sessions too.
    run(users, "users", "add", "operator", "--role", "operator", "--password", "another-pass")
    assert laptop.get("/console/").status_code == 302


def test_disabling_a_user_deletes_their_sessions(app, users, rt):
    browser = app.test_client()
    login(browser, "member")
    run(users, "users", "disable", "member")
    with rt.db.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 0
    run(users, "users", "add", "member", "--role", "member", "--team", "DH-S1-C1-G1-T", "--password", "gridline-demo")
    assert browser.get("/console/").status_code == 302  # switching back on does not revive the old cookie


def test_sessions_expire_after_eight_hours_on_the_server(app, users, clock):
    browser = app.test_client()
    login(browser, "admin")
    clock.advance(hours=7, minutes=59)
    assert browser.get("/console/").status_code == 200
    clock.advance(minutes=2)
    assert browser.get("/console/").status_code == 302


def test_a_lockout_elsewhere_does_not_lock_the_admin_out(app, users):
    attacker = from_address(app.test_client(), "203.0.113.9")
    for _ in range(5):
        assert login(attacker, "admin", "guess-guess").status_code == 401
    locked = login(attacker, "admin")           # even the right password: this address is locked
    assert locked.status_code == 429 and "账号已锁定" in locked.data.decode()
    admin = from_address(app.test_client(), "198.51.100.7")
    assert login(admin, "admin").status_code == 302


def test_password_spraying_from_one_address_is_slowed(app, users):
    sprayer = from_address(app.test_client(), "203.0.113.10")
    names = ["admin", "operator", "supervisor", "member", "member2"]
    for i in range(20):
        assert login(sprayer, names[i % 5], f"Spring2026-{i}").status_code == 401  # four tries per account
    assert login(sprayer, "member2").status_code == 429   # the 21st, right password or not
    assert login(from_address(app.test_client(), "198.51.100.8"), "member2").status_code == 302


def test_a_distributed_guess_at_one_account_spares_its_usual_address(app, users):
    home = from_address(app.test_client(), "198.51.100.20")
    assert login(home, "admin").status_code == 302             # the admin's usual address
    for i in range(50):
        bot = from_address(app.test_client(), f"10.9.{i // 200}.{i % 200 + 1}")
        assert login(bot, "admin", "wrong-pass").status_code == 401
    assert login(from_address(app.test_client(), "10.9.9.9"), "admin").status_code == 429
    assert login(from_address(app.test_client(), "198.51.100.20"), "admin").status_code == 302


def test_unknown_usernames_cost_one_password_check_like_known_ones(app, users, monkeypatch):
    from gateway import logins

    checked = []
    real = logins.check_password_hash
    monkeypatch.setattr(logins, "check_password_hash", lambda h, p: checked.append(h) or real(h, p))
    browser = app.test_client()
    assert login(browser, "nobody-here", "whatever1").status_code == 401
    assert login(browser, "admin", "whatever1").status_code == 401
    assert len(checked) == 2 and checked[0] == logins._DUMMY_HASH and checked[1] != logins._DUMMY_HASH
    assert checked[0].split("$")[0] == checked[1].split("$")[0]  # same method and cost


# -- finding 9: headers, and refusals that do not name a confidential case's office -----------------
def test_pages_and_api_answers_carry_security_headers(client, users):
    login(client, "admin")
    page = client.get("/console/")
    api = client.get("/api/v1/cases", headers=bearer(users, "admin"))
    for response in (page, api, client.get("/console/login")):
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "no-store"
        assert "Strict-Transport-Security" not in response.headers  # plain http in tests
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    intake = client.get("/console/intake")
    nonce = intake.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'<script nonce="{nonce}">' in intake.data.decode()


def test_hsts_over_https(settings, users):
    from gateway import create_app

    app = create_app(settings.replace(public_url="https://gridline.example.cn"))
    response = app.test_client().get("/console/login")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_a_refused_command_does_not_name_the_office_of_a_confidential_case(phone, rt, demo):
    phone.text(RESIDENT_G1, "村东头两伙人打起来了，有人拿刀")
    [case] = cases(rt)
    assert case.category == "stability"
    outsider = member(rt, "DH-S2-C2-G1-T")
    phone.text(outsider, f"办结 {case.number} 已处理")
    reply = outbox(rt, to=outsider)[-1].body
    assert f"您无权处理案件{case.number}" in reply
    assert case.team.name not in reply and "网格" not in reply.split("无权处理")[1]


# -- finding 8 and PIPL: logs, API masking, audit, retention, erasure ------------------------------
def test_phones_and_private_query_values_are_masked_in_log_lines():
    from gateway.logs import PrivacyFilter, mask_text

    assert mask_text("from=+8613805710001 to 13805710002") == "from=+86138****0001 to 138****0002"
    assert mask_text("sent +14155550100") == "sent +141****0100"
    line = '127.0.0.1 - - "GET /console/classify?text=%E6%89%93%E6%9E%B6&x=1 HTTP/1.1" 200'
    assert mask_text(line) == '127.0.0.1 - - "GET /console/classify?text=***&x=1 HTTP/1.1" 200'
    assert "13805710001" not in mask_text("GET /console/simulator?phone=13805710001")
    assert mask_text("case 100001 sid SM0123 at 2026-11-18") == "case 100001 sid SM0123 at 2026-11-18"
    record = logging.LogRecord("workers.jobs", logging.INFO, __file__, 1, "inbound from=%s body=%s", ("+8613805710001", "x"), None)
    PrivacyFilter().filter(record)
    assert record.getMessage() == "inbound from=+86138****0001 body=x"


def test_every_gridline_handler_masks_and_worker_info_survives_create_app(settings, capsys):
    from gateway import create_app
    from gateway.logs import PRIVACY, configure_logging

    root = logging.getLogger()
    level = root.level
    try:
        configure_logging("INFO")      # what `gridline worker` does first
        create_app(settings)           # ... then builds the app
        assert logging.getLogger("workers.jobs.inbound").isEnabledFor(logging.INFO)
        assert root.handlers and all(PRIVACY in h.filters for h in root.handlers)
        assert PRIVACY in logging.getLogger("werkzeug").filters
    finally:
        root.setLevel(level)


def test_sql_errors_never_print_parameters(rt):
    with pytest.raises(sa.exc.StatementError) as error:
        with rt.db.session() as session:
            session.execute(sa.text("INSERT INTO no_such_table (phone) VALUES (:phone)"), {"phone": "+8613805710001"})
    assert "13805710001" not in str(error.value)


def test_api_masks_phones_unless_the_role_needs_them(client, users, phone):
    phone.text(RESIDENT_G1, "我家楼上漏水好几天了")
    number = cases(users.extensions["gridline"])[0].number
    full = {"operator": True, "admin": True, "member": True, "supervisor": False}
    for username, sees in full.items():
        shown = client.get(f"/api/v1/cases/{number}", headers=bearer(users, username)).json
        listed = client.get("/api/v1/cases", headers=bearer(users, username)).json["cases"][0]
        expected = RESIDENT_G1 if sees else "+86138****0001"
        assert shown["reporter"] == expected and listed["reporter"] == expected, username
        inbound = [m for m in shown["messages"] if m["direction"] == "in"]
        assert inbound and all(m["from"] == expected for m in inbound)


def test_views_and_lists_are_audited_and_admins_read_the_audit(app, client, users, rt, phone):
    phone.text(RESIDENT_G1, "我家楼上漏水好几天了")
    number = cases(rt)[0].number
    client.get(f"/api/v1/cases/{number}", headers=bearer(users, "operator"))
    client.get("/api/v1/cases", headers=bearer(users, "member"))
    login(client, "supervisor")
    client.get(f"/console/cases/{number}")
    assert client.get("/console/audit").status_code == 403
    run(users, "case", "show", number)
    with rt.db.session() as session:
        rows = [(r.username, r.action, r.channel) for r in session.scalars(sa.select(AccessRecord).order_by(AccessRecord.id))]
    assert rows[:3] == [("operator", "view", "api"), ("member", "list", "api"), ("supervisor", "view", "console")]
    assert rows[3][0].startswith("cli:") and rows[3][1:] == ("view", "cli")
    admin = app.test_client()
    login(admin, "admin")
    page = admin.get(f"/console/audit?case={number}").data.decode()
    assert page.count(f">{number}</a>") == 4 and "supervisor" in page
    listed = json.loads(run(users, "audit", "--case", number, "--json").output)
    assert [r["user"] for r in listed][-1] == "operator" and len(listed) == 4


def _closed_case(rt, phone, clock, days_ago):
    phone.text(RESIDENT_G1, "小区门口路灯坏了一个星期")
    with rt.db.session() as session:
        case = session.scalars(sa.select(Case).order_by(Case.id.desc())).first()
        case.status, case.rating = "closed", "satisfied"
        case.resolved_at = case.closed_at = clock() - timedelta(days=days_ago)
        return case.id


def test_retention_anonymises_old_closed_cases_and_keeps_the_figures(rt, phone, clock, demo):
    from workers.jobs.retention import sweep_retention

    old = _closed_case(rt, phone, clock, days_ago=200)
    recent = _closed_case(rt, phone, clock, days_ago=10)
    phone.text(RESIDENT_G1_B, "我家楼上漏水好几天了")   # open: untouched
    rt.retention_days = 180
    assert sweep_retention() == 1
    assert sweep_retention() == 0                          # once
    with rt.db.session() as session:
        gone = session.get(Case, old)
        assert (gone.reporter_phone, gone.text, gone.anonymised_at is not None) == (None, "［已匿名化］", True)
        assert (gone.category, gone.subcategory, gone.status, gone.rating) == ("livelihood", "urban_construction", "closed", "satisfied")
        assert gone.area_id and gone.team_id and gone.created_at and gone.closed_at
        inbound = session.scalars(sa.select(InboundMessage).where(InboundMessage.case_id == old)).all()
        assert inbound and all(m.body == "［已匿名化］" and m.from_phone is None for m in inbound)
        out = session.scalars(sa.select(OutboundMessage).where(OutboundMessage.case_id == old)).all()
        assert out and all(m.body == "［已匿名化］" and m.to != RESIDENT_G1 for m in out)
        assert session.get(Case, recent).reporter_phone == RESIDENT_G1
        assert session.scalar(sa.select(Case.text).where(Case.reporter_phone == RESIDENT_G1_B)) == "我家楼上漏水好几天了"
        assert session.scalar(sa.select(AccessRecord.action).where(AccessRecord.case_id == old)) == "anonymise"


def test_retention_days_from_rules_or_env(tmp_path):
    from workers.privacy import configured_retention_days

    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 1\nprivacy:\n  retention_days: 365\n", encoding="utf-8")
    assert configured_retention_days(rules, env={}) == 365
    assert configured_retention_days(rules, env={"GRIDLINE_RETENTION_DAYS": "30"}) == 30
    with pytest.raises(ValueError):
        configured_retention_days(rules, env={"GRIDLINE_RETENTION_DAYS": "３０"})


def test_erase_a_residents_phone_everywhere(users, rt, phone, clock):
    _closed_case(rt, phone, clock, days_ago=3)
    phone.text(RESIDENT_G1, "我家楼上漏水好几天了")   # an open case too
    phone.text(RESIDENT_G1_B, "小区垃圾没人清运")     # a neighbour: untouched
    result = run(users, "privacy", "erase", "--phone", "138 0571 0001")
    assert result.exit_code == 0, result.output
    assert "+86138****0001 已匿名化" in result.output and "cases: 2" in result.output
    assert "residents: 1" in result.output and "13805710001" not in result.output
    with rt.db.session() as session:
        for column in (Case.reporter_phone, InboundMessage.from_phone, OutboundMessage.to, Resident.phone):
            assert session.scalar(sa.select(sa.func.count()).where(column == RESIDENT_G1)) == 0, column
        assert session.scalar(sa.select(sa.func.count()).select_from(Case).where(Case.text.like("%漏水%"))) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(Case)) == 3       # the figures stay
        assert session.scalar(sa.select(Case.text).where(Case.reporter_phone == RESIDENT_G1_B)) == "小区垃圾没人清运"
        assert session.scalar(sa.select(AccessRecord.action).where(AccessRecord.action == "erase")) == "erase"
    again = run(users, "privacy", "erase", "--phone", "13805710001")
    assert "没有找到相关数据" in again.output


def test_gunicorn_error_and_access_logs_are_masked():
    from gunicorn.config import Config

    from gateway.logs import PRIVACY, GunicornLogger

    cfg = Config()
    cfg.set("accesslog", "-")
    logger = GunicornLogger(cfg)
    assert logger.access_log.handlers and all(PRIVACY in h.filters for h in logger.access_log.handlers)
    assert all(PRIVACY in h.filters for h in logger.error_log.handlers)


def test_logins_go_on_unthrottled_when_redis_is_down(app, users, monkeypatch, caplog):
    import redis as redis_lib

    from gateway import logins

    def down(*_args, **_kwargs):
        raise redis_lib.ConnectionError("redis down")

    monkeypatch.setattr(logins.LoginGuard, "_blocked", lambda self, u, a: down())
    monkeypatch.setattr(logins.LoginGuard, "_succeeded", lambda self, u, a: down())
    with caplog.at_level(logging.WARNING):
        assert login(app.test_client(), "admin").status_code == 302
    assert any("login throttle unavailable" in r.getMessage() for r in caplog.records)


def test_parameter_rules_for_dates_flags_and_text():
    from datetime import date

    from gateway import params

    assert params.day({"from": "2026-11-18"}, "from") == date(2026, 11, 18)
    for bad in ("2026-02-30", "２０２６-11-18", "18/11/2026", "2026-11-18\x00"):
        with pytest.raises(params.BadParam):
            params.day({"from": bad}, "from")
    assert params.flag({"overdue": "true"}, "overdue") is True and params.flag({}, "overdue") is None
    assert params.text({"q": "  路灯\t"}, "q") == "路灯"
    with pytest.raises(params.BadParam):
        params.text({"q": "路\u200b灯"}, "q")   # a zero-width space hides text from staff
    assert params.paging({}) == (1, 50)


def test_privacy_sweep_command_runs_the_retention_now(users, rt, phone, clock):
    old = _closed_case(rt, phone, clock, days_ago=40)
    assert "未设置保存期限" in run(users, "privacy", "sweep").output
    result = run(users, "privacy", "sweep", "--days", "30")
    assert "已匿名化结案超过 30 天的案件 1 件" in result.output
    with rt.db.session() as session:
        assert session.get(Case, old).reporter_phone is None


def test_console_case_page_masks_phones_for_supervisors(app, users, rt, phone):
    phone.text(RESIDENT_G1, "我家楼上漏水好几天了")
    number = cases(rt)[0].number
    pages = {}
    for username in ("supervisor", "member"):
        browser = app.test_client()
        login(browser, username)
        pages[username] = browser.get(f"/console/cases/{number}").data.decode()
    assert "13805710001" not in pages["supervisor"] and "+86138****0001" in pages["supervisor"]
    assert "+8613805710001" in pages["member"]  # the handling team calls the resident back
