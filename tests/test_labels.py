"""Every event the code records has a Chinese word on the console: a new event type without one
would show as 其他 in every case trail."""
from __future__ import annotations

import re

from gateway.labels import EVENTS
from workers.settings import PROJECT_ROOT

RECORDED = re.compile(r"\.record\(\s*\w+,\s*\"([a-z_]+)\"|extra_event=\(\"([a-z_]+)\"")


def test_every_recorded_event_type_has_a_chinese_label():
    found = set()
    for folder in ("workers", "gateway"):
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            for match in RECORDED.finditer(path.read_text(encoding="utf-8")):
                found.add(match.group(1) or match.group(2))
    assert {"patrol", "on_the_spot", "phone_visit", "acknowledged"} <= found  # the scan sees the code
    assert sorted(found - EVENTS.keys()) == []
