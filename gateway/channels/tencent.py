"""Tencent Cloud SMS callbacks: 回复回调 (one resident's reply, a JSON object; no message id, so
deduplicated on mobile + time + text) and 下发状态回调 (delivery reports, a JSON array).
Protected like Aliyun's pushes; answered `{"result": 0, "errmsg": "OK"}` once stored."""
from __future__ import annotations

from flask import Blueprint, jsonify

from workers.pushes import tencent_reply, tencent_status

from . import push
from .guard import require_token

bp = Blueprint("tencent_sms", __name__, url_prefix="/sms/tencent")
CHANNEL = "tencent"


def answer(result: int = 0, errmsg: str = "OK", status: int = 200):
    return jsonify({"result": result, "errmsg": errmsg}), status


@bp.post("/reply")
def reply():
    require_token(CHANNEL)
    data = push.body_json(CHANNEL)
    if data is None:
        return answer(1, "body is not JSON", 400)
    items = data if isinstance(data, list) else [data]
    try:
        push.store_texts(CHANNEL, items, tencent_reply)
    except push.StoreFailed:
        return answer(1, "temporarily unable to store", 503)
    return answer()


@bp.post("/status")
def status():
    require_token(CHANNEL)
    data = push.body_json(CHANNEL)
    if data is None:
        return answer(1, "body is not JSON", 400)
    try:
        push.apply_reports(CHANNEL, data if isinstance(data, list) else [data], tencent_status)
    except push.DB_ERRORS:
        return answer(1, "temporarily unable to store", 503)
    return answer()
