"""What the three channels' routes share: reading a JSON push, storing its texts and applying
its delivery reports."""
from __future__ import annotations

import json
import logging
import sqlite3

import psycopg

from flask import current_app, request
from sqlalchemy.exc import SQLAlchemyError

from workers import delivery
from workers.pushes import Report, Text

from . import door
from .guard import require_token

log = logging.getLogger(__name__)
# The inbound store runs driver SQL on a raw connection: its errors arrive unwrapped.
DB_ERRORS = (SQLAlchemyError, sqlite3.Error, psycopg.Error)


class StoreFailed(Exception):
    """The database did not take a push: answer 5xx so the provider pushes again."""


def receive(channel: str, answer, action):
    """A token-protected push: check who pushes, read the JSON (an object is a batch of one), act
    on its items; answer 400 for a body that is not JSON, 5xx when it could not be stored."""
    require_token(channel)
    data = body_json(channel)
    if data is None:
        return answer(1, "推送内容不是 JSON", 400)
    try:
        action(channel, data if isinstance(data, list) else [data])
    except (StoreFailed, *DB_ERRORS):
        return answer(1, "暂时无法保存，请稍后重推", 503)
    return answer()


def runtime():
    return current_app.extensions["gridline"]


def body_json(channel: str):
    """The parsed JSON body, or None (the raw push is recorded as malformed)."""
    raw = request.get_data(cache=True)
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        door.reject(runtime(), channel, None, {"body": raw[:2000].decode("utf-8", "replace")}, "推送内容不是 JSON")
        return None


def store_texts(channel: str, items: list, parse) -> list[int]:
    """Store every good item of a push (each once per its key) and record every bad one with
    its reason; then hand the new ones to the workers. StoreFailed when the database failed."""
    rt = runtime()
    stored: list[int] = []
    try:
        for index, item in enumerate(items, 1):
            text = parse(item)
            if isinstance(text, str):
                key = (item.get("sequence_id") or item.get("id")) if isinstance(item, dict) else None
                door.reject(rt, channel, str(key) if isinstance(key, (int, str)) and str(key) else None, item,
                            f"第{index}条：{text}" if len(items) > 1 else text)
                continue
            message_id = _accept(rt, channel, text)
            if message_id is not None:
                stored.append(message_id)
    except DB_ERRORS as exc:
        log.error("%s push not stored: %s (answering 5xx so the provider pushes again)", channel, exc)
        door.hand_over(rt, stored)  # what was stored is kept; the repeat is deduplicated
        raise StoreFailed from exc
    door.hand_over(rt, stored)
    return stored


def _accept(rt, channel: str, text: Text) -> int | None:
    return door.accept(rt, channel, text.phone, text.text, text.key, text.to, text.params)


def apply_reports(channel: str, items: list, parse) -> int:
    rt = runtime()
    applied = 0
    with rt.db.session() as session:
        for index, item in enumerate(items, 1):
            report = parse(item)
            if isinstance(report, str):
                log.warning("%s report item %d ignored: %s", channel, index, report)
                continue
            applied += delivery.apply(session, channel, report)
    return applied


def apply_report(channel: str, report: Report) -> bool:
    with runtime().db.session() as session:
        return delivery.apply(session, channel, report)
