"""Rendering SMS texts from the rules' templates (pure)."""
from __future__ import annotations

from datetime import datetime

from models.base import to_local

from .policy import Policy


class _Blank(dict):
    def __missing__(self, key):
        return ""


def render(policy: Policy, template: str, params: dict) -> str:
    return policy.templates[template].format_map(_Blank(params))


def excerpt(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def local_time(value: datetime | None) -> str:
    """UTC -> '11月23日18:00' in Beijing time, as residents and staff read it."""
    if value is None:
        return ""
    local = to_local(value)
    return f"{local.month}月{local.day}日{local:%H:%M}"
