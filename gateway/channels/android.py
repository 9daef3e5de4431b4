"""SMS Gateway for Android webhooks: signed events from the office's phone. sms:received becomes
a resident's text (deduplicated on the event id: the app retries for two days); sms:sent,
sms:delivered and sms:failed land on the outbound row whose id we gave the phone."""
from __future__ import annotations

import json
import logging

from flask import Blueprint, jsonify

from workers.pushes import ANDROID_STATUS, android_envelope, android_received, android_status

from . import door, push
from .guard import require_android_signature

log = logging.getLogger(__name__)
bp = Blueprint("android_sms", __name__, url_prefix="/sms/android")
CHANNEL = "android"


@bp.post("")
def webhook():
    raw = require_android_signature()
    rt = push.runtime()
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        door.reject(rt, CHANNEL, None, {"body": raw[:2000].decode("utf-8", "replace")}, "事件内容不是 JSON")
        return jsonify({"error": "body is not JSON"}), 400
    envelope = android_envelope(data)
    if isinstance(envelope, str):
        door.reject(rt, CHANNEL, None, data, envelope)
        return jsonify({"error": envelope}), 400
    event_id, event, payload = envelope
    try:
        if event == "sms:received":
            push.store_texts(CHANNEL, [dict(payload, id=event_id)],
                             lambda item: android_received(event_id, payload, str(data.get("deviceId") or "")))
        elif event in ANDROID_STATUS:
            report = android_status(event, payload)
            if isinstance(report, str):
                log.info("android %s event %s ignored: %s", event, event_id, report)
            else:
                push.apply_report(CHANNEL, report)
        else:  # system:ping and events we do not use
            log.debug("android event %s %s", event, event_id)
    except (push.StoreFailed, *push.DB_ERRORS):
        return jsonify({"error": "temporarily unable to store"}), 503
    return jsonify({"ok": True})
