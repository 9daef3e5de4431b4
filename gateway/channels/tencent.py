"""Tencent Cloud SMS callbacks: 回复回调 (one resident's reply, a JSON object; no message id, so
deduplicated on mobile + time + text) and 下发状态回调 (delivery reports, a JSON array).
Protected like Aliyun's pushes; answered `{"result": 0, "errmsg": "OK"}` once stored."""
from __future__ import annotations

from flask import Blueprint, jsonify

from workers.pushes import tencent_reply, tencent_status

from . import push

bp = Blueprint("tencent_sms", __name__, url_prefix="/sms/tencent")
CHANNEL = "tencent"


def answer(result: int = 0, errmsg: str = "OK", status: int = 200):
    return jsonify({"result": result, "errmsg": errmsg}), status


@bp.post("/reply")
def reply():
    return push.receive(CHANNEL, answer, lambda channel, items: push.store_texts(channel, items, tencent_reply))


@bp.post("/status")
def status():
    return push.receive(CHANNEL, answer, lambda channel, items: push.apply_reports(channel, items, tencent_status))
