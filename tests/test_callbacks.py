"""Return visits by phone: a landline caller's resolved case waits in the console's 回访 queue
(the sweep does not close it as "no response"); the operator's outcome closes or reopens it
exactly as an SMS rating does."""
from __future__ import annotations

import re

from tests.conftest import RESIDENT_G1, cases, drain_queues, events, outbox
from tests.test_casework import member
from tests.test_console_api import csrf, login, users  # noqa: F401 (fixture)
from workers.jobs.deadlines import sweep_deadlines

LANDLINE = "+8657487654321"  # 宁波 0574 fixed line


def call_in(client, notes, phone="0574 8765 4321"):
    login(client, "operator")
    response = client.post("/console/intake", data={"csrf": csrf(client, "/console/intake"), "phone": phone, "notes": notes})
    assert response.status_code == 302
    return re.search(r"/console/cases/(\d+)", response.headers["Location"]).group(1)


def resolve(phone, rt, number):
    [case] = [c for c in cases(rt) if c.number == number]
    phone.text(member(rt, case.team.code), f"办结 {number} 已更换灯泡")


def test_a_landline_callers_case_is_rated_by_phone(client, users, rt, phone, clock):  # noqa: F811
    number = call_in(client, "湖畔社区湖滨路16号门口的路灯坏了好几天")
    resolve(phone, rt, number)
    [case] = cases(rt)
    assert (case.status, case.contact, case.area.code) == ("resolved", "phone", "DH-S1-C1")
    clock.advance(days=5)
    sweep_deadlines()
    assert cases(rt)[0].status == "resolved"  # waits for the call, not closed as "no response"
    login(client, "operator")  # five days on, the console session has expired
    queue = client.get("/console/callbacks").data.decode()
    assert number in queue and LANDLINE in queue  # the operator sees whom to call
    response = client.post(f"/console/cases/{number}/callback",
                           data={"csrf": csrf(client, "/console/callbacks"), "outcome": "basically_satisfied",
                                 "note": "来电人说路灯已亮"})
    assert response.status_code == 302
    [case] = cases(rt)
    assert (case.status, case.rating) == ("closed", "basically_satisfied")
    assert events(rt, case.id)[-3:] == ["phone_visit", "rated", "closed"]
    assert "共 0 件" in client.get("/console/callbacks").data.decode()
    drain_queues(rt)
    assert all(m.status == "suppressed" for m in outbox(rt, to=LANDLINE))  # nothing is texted to a landline


def test_dissatisfied_on_the_phone_reopens_and_counts(client, users, rt, phone):  # noqa: F811
    from tests.test_console_api import token_for

    number = call_in(client, "湖畔社区湖滨路16号门口的路灯坏了好几天")
    resolve(phone, rt, number)
    client.post(f"/console/cases/{number}/callback", data={"csrf": csrf(client, "/console/callbacks"),
                                                           "outcome": "dissatisfied", "note": "灯还是不亮"})
    [case] = cases(rt)
    assert (case.status, case.rating, case.reopen_count) == ("assigned", "dissatisfied", 1)
    drain_queues(rt)
    assert any("居民评价不满意" in m.body for m in outbox(rt, kind="team_notice"))
    figures = client.get("/api/v1/stats?from=2026-11-01&to=2026-11-30",
                         headers={"Authorization": f"Bearer {token_for(users, 'admin')}"}).get_json()["totals"]
    assert (figures["rated"], figures["satisfaction_rate"]) == (1, 0.0)


def test_a_resident_who_asks_for_a_call_is_queued_and_may_still_answer_by_sms(client, users, rt, phone):  # noqa: F811
    phone.text(RESIDENT_G1, "小区门口的路灯坏了好几天，处理好请电话回复我")
    [case] = cases(rt)
    assert case.contact == "phone"
    resolve(phone, rt, case.number)
    login(client, "supervisor")
    assert case.number in client.get("/console/callbacks").data.decode()
    phone.text(RESIDENT_G1, "1")
    assert cases(rt)[0].status == "closed"


def test_bad_outcome_is_refused(client, users, rt, phone):  # noqa: F811
    number = call_in(client, "湖畔社区湖滨路16号门口的路灯坏了好几天")
    resolve(phone, rt, number)
    response = client.post(f"/console/cases/{number}/callback", data={"csrf": csrf(client, "/console/callbacks"),
                                                                      "outcome": "great"})
    assert response.status_code == 400 and cases(rt)[0].status == "resolved"
    login(client, "member")
    assert client.get("/console/callbacks").status_code == 403
