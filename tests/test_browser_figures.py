"""The figures in a real browser (Chromium via Playwright): the dashboard's period picker and
drill-down, the ranking, and the new pages at phone width. Screenshots in tests/artifacts/."""
from __future__ import annotations

from tests.conftest import RESIDENT_G1, RESIDENT_XINHE
from tests.test_browser import ARTIFACTS, browser, login, pytestmark, server  # noqa: F401 (fixtures, skip mark)
from tests.test_casework import member


def test_dashboard_period_picker_and_drill_down(server, browser, phone, rt):  # noqa: F811
    phone.text(RESIDENT_G1, "小区门口的路灯坏了好几天")
    phone.text(RESIDENT_XINHE, "村口的路灯坏了好几天，晚上很黑")
    phone.text(member(rt, "DH-S1-C1-G1-T"), "走访 看望独居老人张大爷")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    login(page, server, "supervisor")
    page.click("text=统计")
    assert page.inner_text("#received") == "2"
    page.fill("input[name=from]", "2026-10-01")
    page.fill("input[name=to]", "2026-10-31")
    page.click("#period button[type=submit]")
    assert "2026-10-01 至 2026-10-31" in page.inner_text("#scope") and page.inner_text("#received") == "0"
    page.click("text=本月")
    assert page.inner_text("#received") == "2"
    page.screenshot(path=str(ARTIFACTS / "dashboard-1280.png"), full_page=True)
    page.click("#drill >> text=湖畔社区")  # street -> community
    assert "area=DH-S1-C1" in page.url and page.inner_text("#received") == "1"
    assert "湖畔社区第1网格" in page.inner_text("#drill")
    assert "东湖街道" in page.inner_text("#scope")  # the way back up
    page.click("text=考核排名")
    page.select_option("select[name=by]", "community")
    page.click("#period button[type=submit]")
    assert page.locator("#ranking tr").count() >= 3
    page.screenshot(path=str(ARTIFACTS / "ranking-1280.png"), full_page=True)


def test_figure_pages_at_phone_width(server, browser, phone, rt):  # noqa: F811
    phone.text(RESIDENT_G1, "小区门口的路灯坏了好几天")
    page = browser.new_page(viewport={"width": 375, "height": 740})
    login(page, server, "admin")
    for path, shot in (("/console/dashboard", "dashboard-375.png"), ("/console/ranking?by=member", "ranking-375.png"),
                       ("/console/worklogs", "worklogs-375.png"), ("/console/callbacks", "callbacks-375.png")):
        page.goto(server + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{path} scrolls sideways by {overflow}px at phone width"
        page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
