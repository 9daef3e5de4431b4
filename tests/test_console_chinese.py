"""The console reads Chinese everywhere and guards the changes that move a case: a real
Chromium at 1280 and 375 px, screenshots in tests/artifacts/issue11-*.png."""
from __future__ import annotations

import re

import pytest

from tests.conftest import RESIDENT_G1, RESIDENT_G1_B, cases, events
from tests.test_browser import ARTIFACTS, browser, login, server  # noqa: F401  (fixtures)
from tests.test_casework import member

RAW = re.compile(r"\b(acknowledge|resolve|command_rejected|command_refused|case_opened|case_joined|stored|rating|"
                 r"not_a_report|status_query|livelihood|stability|urban_construction|DH-S\d[-A-Z0-9]*)\b")
WIDTHS = (1280, 375)


@pytest.fixture
def busy(server, phone, rt):  # noqa: F811
    phone.text(RESIDENT_G1, "我家楼上漏水好几天了，物业不管")
    phone.text(RESIDENT_G1_B, "快来人！村东头两伙人打起来了")
    phone.text(RESIDENT_G1, "你好")
    grid_member = member(rt, "DH-S1-C1-G1-T")
    first = cases(rt)[0].number
    phone.text(grid_member, f"受理 {first[:-1]}")   # a digit short: refused, listed
    phone.text(grid_member, f"办结 {first} 已协调物业更换水管！")
    phone.text(RESIDENT_G1, "1")
    return server


def _visible_text(page) -> str:
    return page.inner_text("body")


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_reads_chinese(busy, browser, rt, width):  # noqa: F811
    page = browser.new_page(viewport={"width": width, "height": 900})
    login(page, busy, "admin")
    first, urgent = cases(rt)[0].number, cases(rt)[1].number
    for name, path in [("cases", "/console/"), ("case", f"/console/cases/{first}"),
                       ("dashboard", "/console/dashboard"), ("print", f"/console/cases/{urgent}/print"),
                       ("simulator", "/console/simulator?phone=13805710001"), ("users", "/console/users"),
                       ("intake", "/console/intake"),
                       ("404", "/console/cases/999999")]:
        response = page.goto(busy + path)
        page.screenshot(path=str(ARTIFACTS / f"issue11-{name}-{width}.png"), full_page=True)
        text = _visible_text(page)
        assert not RAW.search(text), (name, RAW.search(text).group(0))
        if name == "404":
            assert response.status == 404 and "不存在" in text
    page.goto(busy + "/console/")
    row = page.inner_text("#case-list tr:nth-child(2)")
    assert "剩" in row or "超期" in row or "已结案" in row
    assert "漏水" in page.inner_text("#case-list") or width == 375


def test_recategorise_and_reassign_default_to_current_and_ask_first(busy, browser, rt):  # noqa: F811
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    login(page, busy, "admin")
    case = cases(rt)[1]  # the fight: 维稳, 湖畔社区第1网格服务团队
    page.goto(f"{busy}/console/cases/{case.number}")
    assert page.eval_on_selector("#recategorise-category", "s => s.value") == "stability"
    assert page.eval_on_selector("#reassign-team", "s => s.value") == "DH-S1-C1-G1-T"
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.click("button[data-confirm=更正类别]")       # unchanged: refused in the page
    page.select_option("#recategorise-category", "urban_construction")
    page.click("button[data-confirm=更正类别]")       # changed: asked, and dismissed
    assert dialogs[0].startswith("未更改") and f"确认将案件{case.number}更正类别为“城乡建设”" in dialogs[1]
    assert events(rt, case.id)[-1] != "recategorised"


def test_print_sheet_has_what_a_unit_needs(busy, browser, rt):  # noqa: F811
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    login(page, busy, "admin")
    case = cases(rt)[0]
    page.goto(f"{busy}/console/cases/{case.number}/print")
    text = page.inner_text("body")
    for needed in ("网格事项交办单", f"编号 {case.number}", "贺*", "138****0001", "湖畔社区第1网格服务团队", "办结时限",
                   "承办人签字", "民生·城乡建设"):
        assert needed in text, needed
    page.emulate_media(media="print")
    assert not page.is_visible(".noprint")
