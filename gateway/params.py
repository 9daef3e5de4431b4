"""Query and form parameters, checked at the edge: a bad value is a BadParam whose message (Chinese)
the caller sees with a 400, never a 500 or a silently widened query.

Pure functions over a mapping (request.args, request.form), so the API and the console share
one set of rules.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Iterable, Mapping

from models.case import SOURCES

MAX_PER_PAGE = 200
MAX_PAGE = 100_000
MAX_TEXT = 200  # a search or filter value, not a report
ASCII_DIGITS = re.compile(r"[0-9]+")
CASE_NUMBER = re.compile(r"[0-9]{6,8}")


class BadParam(ValueError):
    """str() is the Chinese message for whoever sent the parameter."""


def control_chars(value: str) -> bool:
    """True when value holds NUL or another control or format character (tabs and newlines
    allowed): they end a PostgreSQL statement with an error and hide text from staff."""
    return any(unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\t\r\n" for ch in value)


def text(args: Mapping[str, str], name: str, max_len: int = MAX_TEXT) -> str | None:
    """A free-text filter: trimmed, None when empty; refused with control characters or too long."""
    value = (args.get(name) or "").strip()
    if not value:
        return None
    if control_chars(value):
        raise BadParam(f"参数 {name} 含有不可见的控制字符")
    if len(value) > max_len:
        raise BadParam(f"参数 {name} 超过 {max_len} 个字符")
    return value


def integer(args: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    """An ASCII-digit integer within [lo, hi]; '²', '-1', '1e3' and ' ' are refused."""
    raw = (args.get(name) or "").strip()
    if not raw:
        return default
    if not ASCII_DIGITS.fullmatch(raw) or len(raw) > 9:
        raise BadParam(f"参数 {name} 应为 {lo} 到 {hi} 之间的整数")
    value = int(raw)
    if not lo <= value <= hi:
        raise BadParam(f"参数 {name} 应为 {lo} 到 {hi} 之间的整数")
    return value


def paging(args: Mapping[str, str], per_page_default: int = 50) -> tuple[int, int]:
    return (integer(args, "page", 1, 1, MAX_PAGE),
            integer(args, "per_page", per_page_default, 1, MAX_PER_PAGE))


def choice(args: Mapping[str, str], name: str, allowed: Iterable[str]) -> str | None:
    value = text(args, name)
    allowed = tuple(allowed)
    if value is not None and value not in allowed:
        raise BadParam(f"参数 {name} 应为 {', '.join(allowed)} 之一")
    return value


def flag(args: Mapping[str, str], name: str) -> bool | None:
    value = text(args, name)
    if value is None:
        return None
    if value.lower() in ("1", "true", "yes"):
        return True
    if value.lower() in ("0", "false", "no"):
        return False
    raise BadParam(f"参数 {name} 应为 1 或 0")


def day(args: Mapping[str, str], name: str) -> date | None:
    """A calendar day YYYY-MM-DD (ASCII digits only)."""
    value = text(args, name)
    if value is None:
        return None
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise BadParam(f"参数 {name} 应为日期，格式 YYYY-MM-DD")
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as exc:
        raise BadParam(f"参数 {name} 不是有效日期：{value}") from exc


def case_number(value: str) -> str:
    """A case number in a path: six to eight ASCII digits ('²²²' is not a number here)."""
    if not CASE_NUMBER.fullmatch(value or ""):
        raise BadParam("案件编号应为 6 到 8 位数字")
    return value


def case_filters(args: Mapping[str, str], statuses: Iterable[str], channels: Iterable[str],
                 categories: Iterable[str]) -> dict:
    """The case list's filters (caseviews.FILTERS), each checked; only those given are returned."""
    overdue = flag(args, "overdue")
    values = {
        "status": choice(args, "status", statuses),
        "category": choice(args, "category", categories),
        "channel": choice(args, "channel", channels),
        "source": choice(args, "source", SOURCES),
        "area": text(args, "area", 64),
        "team": text(args, "team", 64),
        "overdue": "1" if overdue else None,
        "q": text(args, "q"),
    }
    return {k: v for k, v in values.items() if v is not None}
