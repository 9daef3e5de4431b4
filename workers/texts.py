"""Rendering SMS texts from the rules' templates (pure)."""
from __future__ import annotations

import re
from datetime import datetime

from models.base import to_local

from .policy import Policy


class _Blank(dict):
    def __missing__(self, key):
        return ""


# A sentence mark right after another (a member's "快来人！" before the template's "。"): keep the first.
_DOUBLED = re.compile(r"([。！？!?…；;，,])[。.，,；;]+")


def render(policy: Policy, template: str, params: dict) -> str:
    """A template filled in; {hotline} and {emergency} come from the rules' conversation settings."""
    values = _Blank(hotline=policy.conversation.hotline, emergency=policy.conversation.emergency)
    values.update(params)
    return tidy(policy.templates[template].format_map(values))


def tidy(text: str) -> str:
    """No doubled punctuation where a quoted text meets the template's own: "！。" -> "！"."""
    return _DOUBLED.sub(r"\1", text)


def excerpt(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def local_time(value: datetime | None) -> str:
    """UTC -> '11月23日18:00' in Beijing time, as residents and staff read it."""
    if value is None:
        return ""
    local = to_local(value)
    return f"{local.month}月{local.day}日{local:%H:%M}"
