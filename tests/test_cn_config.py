"""Mainland channels' configuration: every mistake named on its own line at start, and the
approved-template mapping checked by `gridline rules check` when a template provider is chosen."""
from __future__ import annotations

import os
import subprocess
import sys

import yaml

from tests.test_cn_channels import mapped_rules
from tests.test_imports import run
from workers.settings import PROJECT_ROOT

ALIYUN = {"GRIDLINE_ALIYUN_ACCESS_KEY_ID": "LTAI5tTestAccessKey01", "GRIDLINE_ALIYUN_ACCESS_KEY_SECRET": "s",
          "GRIDLINE_ALIYUN_SIGN_NAME": "网格通"}


def _start(tmp_path, **env):
    full = {k: v for k, v in os.environ.items() if not k.startswith(("GRIDLINE_", "TWILIO_"))}
    full.update(GRIDLINE_INSTANCE_PATH=str(tmp_path / "instance"), **env)
    return subprocess.run([sys.executable, "-m", "gateway.cli", "cases"], env=full, capture_output=True, text=True)


def test_each_mistake_is_one_line_naming_its_variable(tmp_path):
    result = _start(tmp_path, GRIDLINE_SMS_PROVIDER="tencent", GRIDLINE_CALLBACK_TOKEN="short",
                    GRIDLINE_CALLBACK_ALLOW="10.0.0.0/8,not-a-net", GRIDLINE_ALIYUN_ACCESS_KEY_ID="LTAI5tTestAccessKey01",
                    GRIDLINE_TENCENT_SMS_APP_ID="12345", GRIDLINE_ANDROID_URL="ftp://phone")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert all(line.startswith("配置错误 GRIDLINE_") for line in lines), lines
    named = [line.split()[1].rstrip(":") for line in lines]
    assert named == ["GRIDLINE_CALLBACK_TOKEN", "GRIDLINE_CALLBACK_ALLOW", "GRIDLINE_ALIYUN_ACCESS_KEY_SECRET",
                     "GRIDLINE_ALIYUN_SIGN_NAME", "GRIDLINE_TENCENT_SECRET_ID", "GRIDLINE_TENCENT_SECRET_KEY",
                     "GRIDLINE_TENCENT_SIGN_NAME", "GRIDLINE_ANDROID_URL", "GRIDLINE_ANDROID_USERNAME",
                     "GRIDLINE_ANDROID_PASSWORD", "GRIDLINE_SMS_PROVIDER"]
    assert "'not-a-net'" in lines[1]


def test_a_chosen_template_provider_without_approved_templates_refuses_to_start(tmp_path):
    result = _start(tmp_path, GRIDLINE_SMS_PROVIDER="aliyun", **ALIYUN)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "provider_templates.aliyun: no approved template id for receipt" in line


def _rules_check(tmp_path, monkeypatch, rules, **env):
    for key in [k for k in os.environ if k.startswith("GRIDLINE_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("GRIDLINE_INSTANCE_PATH", str(tmp_path / "instance"))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return run(None, "rules", "check", str(rules))


def test_rules_check_refuses_missing_template_ids_and_mismatched_parameters(tmp_path, monkeypatch):
    rules = tmp_path / "rules.yaml"
    mapped_rules(rules)
    assert _rules_check(tmp_path, monkeypatch, rules, GRIDLINE_SMS_PROVIDER="aliyun", **ALIYUN).exit_code == 0

    data = yaml.safe_load(rules.read_text(encoding="utf-8"))
    del data["provider_templates"]["aliyun"]["receipt"]
    data["provider_templates"]["tencent"]["repeat_receipt"]["params"] = ["number", "times"]
    data["provider_templates"]["tencent"]["opt_in"]["id"] = "SMS_123"
    rules.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")

    result = _rules_check(tmp_path, monkeypatch, rules)  # outbox: no template provider chosen
    lines = result.output.splitlines()
    assert result.exit_code == 1  # the mapping itself is checked whatever is chosen
    assert any("provider_templates.tencent.repeat_receipt.params: must name exactly" in l and "missing count" in l
               and "not in the template: times" in l for l in lines)
    assert any("provider_templates.tencent.opt_in.id: expected the approved template id" in l for l in lines)

    data["provider_templates"]["tencent"]["repeat_receipt"]["params"] = ["number", "count"]
    data["provider_templates"]["tencent"]["opt_in"]["id"] = "2034511"
    rules.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert _rules_check(tmp_path, monkeypatch, rules).exit_code == 0
    result = _rules_check(tmp_path, monkeypatch, rules, GRIDLINE_SMS_PROVIDER="aliyun", **ALIYUN)
    assert result.exit_code == 1
    assert "provider_templates.aliyun: no approved template id for receipt (" in result.output


def test_rules_templates_prints_the_texts_to_submit(monkeypatch, tmp_path):
    monkeypatch.setenv("GRIDLINE_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("GRIDLINE_RULES", str(PROJECT_ROOT / "routing_rules.yaml"))
    output = run(None, "rules", "templates", "aliyun").output
    assert "# 您反映的问题已受理，编号${number}，由${team}办理，${due}前答复您。" in output
    assert "receipt: {id: \"SMS_待填写\", params: [number, team, due]}" in output
