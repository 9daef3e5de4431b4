"""Alibaba Cloud SMS pushes (HTTP 批量推送): SmsUp (residents' texts) and SmsReport (delivery
reports), JSON arrays, protected by ?token= and the optional source allow-list. `{"code": 0}`
only once every item is stored; 5xx otherwise, so Aliyun pushes the batch again."""
from __future__ import annotations

from flask import Blueprint, jsonify

from workers.pushes import aliyun_report, aliyun_up

from . import push
from .guard import require_token

bp = Blueprint("aliyun_sms", __name__, url_prefix="/sms/aliyun")
CHANNEL = "aliyun"


def answer(code: int = 0, msg: str = "接收成功", status: int = 200):
    return jsonify({"code": code, "msg": msg}), status


def _items():
    data = push.body_json(CHANNEL)
    if isinstance(data, dict):  # one item sent bare: read it as a batch of one
        data = [data]
    return data if isinstance(data, list) else None


@bp.post("/up")
def up():
    require_token(CHANNEL)
    items = _items()
    if items is None:
        return answer(1, "推送内容应为 JSON 数组", 400)
    try:
        push.store_texts(CHANNEL, items, aliyun_up)
    except push.StoreFailed:
        return answer(1, "暂时无法保存，请稍后重推", 503)
    return answer()


@bp.post("/report")
def report():
    require_token(CHANNEL)
    items = _items()
    if items is None:
        return answer(1, "推送内容应为 JSON 数组", 400)
    try:
        push.apply_reports(CHANNEL, items, aliyun_report)
    except push.DB_ERRORS:
        return answer(1, "暂时无法保存，请稍后重推", 503)
    return answer()
