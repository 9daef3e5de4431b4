"""Every SMS template, rendered with realistic values: resident texts fit one 70-character
segment, team notices two, and no doubled punctuation where a quoted text meets a template."""
from __future__ import annotations

import pytest

from workers.policy import load_rules
from workers.settings import PROJECT_ROOT
from workers.texts import render, tidy

POLICY = load_rules(PROJECT_ROOT / "routing_rules.yaml").policy
TEAM = "湖畔社区第1网格服务团队"
PARAMS = dict(
    number="100001", team=TEAM, due="11月25日10:00", area="湖畔社区第1网格", excerpt="楼" * 40, status="已派单",
    lines=f"100001已派单（{TEAM}）", limit=1600, who="网格员曾红梅", note="已联系物业，明天上门", result="楼上水管已更换！",
    count=2, reason="属于物业维修范围", from_team=TEAM, deadline="11月18日14:00", what="受理", message="已受理。",
    error="缺少结果", usage="格式：办结 编号 结果", category="民生·城乡建设", urgent_tag="·紧急", reporter="贺*",
    phone="138****0001", ack_due="11月18日14:00", numbers="100001、100002",
    hint=render(POLICY, "gate_pending", {"number": "100001", "status": "已派单"}),
)
# Texts for staff (two segments allowed); the rest go to residents (one segment).
STAFF = {"team_notice", "informed_notice", "case_addition", "reopened_team", "returned_team", "escalation_team",
         "escalation_original", "reminder", "repeat_team", "cmd_done", "cmd_error", "cmd_refused", "cmd_help",
         "status_line"}
SEGMENT = 70


@pytest.mark.parametrize("name", sorted(POLICY.templates))
def test_template_fits_its_segments_and_reads_cleanly(name):
    body = POLICY.signature + render(POLICY, name, PARAMS)
    assert len(body) <= (2 * 67 if name in STAFF else SEGMENT), (len(body), body)
    for doubled in ("！。", "。。", "？。", "…。", "，。"):
        assert doubled not in body, body
    assert "{" not in body


def test_hotline_and_emergency_come_from_the_rules():
    assert "拨打热线12345" in render(POLICY, "oversized_message", {"limit": 1600})
    assert "立即拨打110" in render(POLICY, "receipt_urgent", {"number": "100001", "team": TEAM})


@pytest.mark.parametrize("text, tidied", [
    ("快来人！。", "快来人！"), ("请尽快处理。。", "请尽快处理。"), ("已修好…。", "已修好…"), ("好的，。", "好的，"),
    ("1,000元", "1,000元"), ("第1. 2点", "第1. 2点"),
])
def test_tidy_keeps_the_first_mark(text, tidied):
    assert tidy(text) == tidied
