"""The gridline command as users and scripts drive it: JSON shapes, errors, rules check."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import RESIDENT_G1, drain_queues
from tests.test_imports import run


def test_simulate_outbox_cases_and_case_show(app, rt, demo):
    result = run(app, "sms", "simulate", "--from", "13805710001", "村东头两伙人打起来了")
    assert result.exit_code == 0 and "已投递 SM" in result.output
    drain_queues(rt)
    messages = json.loads(run(app, "outbox", "--json").output)
    assert {"id", "to", "body", "status", "case", "kind", "created_at"} <= set(messages[0])
    receipt = [m for m in messages if m["kind"] == "receipt"]
    assert receipt[0]["to"] == RESIDENT_G1 and receipt[0]["case"] == "100001"
    assert {m["kind"] for m in messages} == {"receipt", "team_notice"}
    mine = json.loads(run(app, "outbox", "--json", "--to", "138 0571 0001").output)
    assert [m["kind"] for m in mine] == ["receipt"]

    [case] = json.loads(run(app, "cases", "--json").output)
    assert {"number", "status", "category", "subcategory", "urgency", "channel", "reporter", "area", "team",
            "created_at", "ack_due_at", "due_at"} <= set(case)
    assert (case["number"], case["status"], case["category"], case["area"], case["team"], case["channel"]) == (
        "100001", "assigned", "stability", "DH-S1-C1-G1", "DH-S1-C1-G1-T", "sms")
    assert json.loads(run(app, "cases", "--json", "--status", "closed").output) == []
    assert len(json.loads(run(app, "cases", "--json", "--phone", "13805710001").output)) == 1

    shown = json.loads(run(app, "case", "show", "100001", "--json").output)
    assert shown["text"] == "村东头两伙人打起来了"
    assert shown["informed_teams"] == ["DH-S1-CMD", "DH-S1-PCS"]
    assert [e["type"] for e in shown["events"]] == ["received", "classified", "assigned"]
    assert all({"type", "at", "actor", "note"} <= set(e) for e in shown["events"])
    assert shown["messages"][0]["direction"] == "in"
    text = run(app, "case", "show", "100001").output
    assert "轨迹:" in text and "打起来" in text


def test_unknown_case_and_bad_filters_are_clear_errors(app, demo):
    assert run(app, "case", "show", "999").exit_code == 1
    bad = run(app, "cases", "--status", "lost")
    assert bad.exit_code == 2 and "--status" in bad.output
    assert "--from" in run(app, "sms", "simulate", "--from", "abc", "hi").output


def test_classify_json_shape(app):
    data = json.loads(run(app, "classify", "--json", "楼上漏水好几天了").output)
    assert {"category", "subcategory", "department", "urgency", "confidence", "matched", "tokens"} <= set(data)
    assert (data["category"], data["subcategory"], data["department"]) == ("livelihood", "urban_construction", "housing_bureau")
    assert {"keyword": "漏水", "weight": 4.0} in [{k: m[k] for k in ("keyword", "weight")} for m in data["matched"]]


def test_rules_check_names_the_place_of_every_error(tmp_path):
    from workers.settings import PROJECT_ROOT

    text = (PROJECT_ROOT / "routing_rules.yaml").read_text(encoding="utf-8")
    text = text.replace("      打架: 5\n", "      打架: lots\n", 1)
    text = text.replace("        department: transport_bureau\n", "", 1)
    text = text.replace("acknowledge: 15m", "acknowledge: soon", 1)
    text = text.replace("absence_cancels: [stability]", "absence_cancels: [stabilty]", 1)
    bad = tmp_path / "rules.yaml"
    bad.write_text(text, encoding="utf-8")
    result = run(None, "rules", "check", str(bad))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    line_of = lambda needle: next(i + 1 for i, l in enumerate(text.splitlines()) if needle in l)  # noqa: E731
    assert f"{bad}:{line_of('打架: lots')} categories.stability.keywords.打架: expected a number, got 'lots'" in lines
    assert any("categories.livelihood.subcategories.transport.department" in l for l in lines)
    assert any(f":{line_of('acknowledge: soon')} deadlines.stability.urgent" in l for l in lines)
    assert any(f":{line_of('absence_cancels')} classification.absence_cancels: unknown category 'stabilty'" in l
               for l in lines)
    assert lines[-1] == "4 个错误"
    broken = tmp_path / "broken.yaml"
    broken.write_text("categories: [\n", encoding="utf-8")
    assert "YAML syntax" in run(None, "rules", "check", str(broken)).output


def test_stock_rules_are_valid():
    assert "有效" in run(None, "rules", "check").output


def test_bad_configuration_fails_with_one_line_naming_the_variable(tmp_path):
    env = dict(os.environ, GRIDLINE_INSTANCE_PATH=str(tmp_path), GRIDLINE_SMS_PROVIDER="pigeon")
    result = subprocess.run([sys.executable, "-m", "gateway.cli", "cases"], env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "配置错误 GRIDLINE_SMS_PROVIDER: must be one of outbox, twilio, aliyun, tencent, android, got 'pigeon'"]
    env.update(GRIDLINE_SMS_PROVIDER="twilio")
    result = subprocess.run([sys.executable, "-m", "gateway.cli", "cases"], env=env, capture_output=True, text=True)
    assert "TWILIO_ACCOUNT_SID" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    env.update(GRIDLINE_SMS_PROVIDER="outbox", GRIDLINE_DATABASE_URL="mysql://x")
    result = subprocess.run([sys.executable, "-m", "gateway.cli", "cases"], env=env, capture_output=True, text=True)
    assert result.stderr.startswith("配置错误 GRIDLINE_DATABASE_URL")
