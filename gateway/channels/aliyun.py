"""Alibaba Cloud SMS pushes (HTTP 批量推送): SmsUp (residents' texts) and SmsReport (delivery
reports), JSON arrays, protected by ?token= and the optional source allow-list. `{"code": 0}`
only once every item is stored; 5xx otherwise, so Aliyun pushes the batch again."""
from __future__ import annotations

from flask import Blueprint, jsonify

from workers.pushes import aliyun_report, aliyun_up

from . import push

bp = Blueprint("aliyun_sms", __name__, url_prefix="/sms/aliyun")
CHANNEL = "aliyun"


def answer(code: int = 0, msg: str = "接收成功", status: int = 200):
    return jsonify({"code": code, "msg": msg}), status


@bp.post("/up")
def up():
    return push.receive(CHANNEL, answer, lambda channel, items: push.store_texts(channel, items, aliyun_up))


@bp.post("/report")
def report():
    return push.receive(CHANNEL, answer, lambda channel, items: push.apply_reports(channel, items, aliyun_report))
