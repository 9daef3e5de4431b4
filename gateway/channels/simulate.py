"""`gridline sms simulate --channel ...`: a resident's text as each provider would push it, with
the real authentication (the callback token, or the Android signature), for trainers and smoke
tests. Returns what to POST; the CLI sends it in-process or to a running server."""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

from .guard import android_signature


class NotConfigured(Exception):
    """The channel's inbound route is not live with this configuration."""


@dataclass(frozen=True)
class Push:
    path: str       # with the query string
    body: bytes
    headers: dict
    key: str        # the provider's message key, for the trainer to see


NEEDS = {
    "aliyun": "GRIDLINE_CALLBACK_TOKEN 和 GRIDLINE_ALIYUN_ACCESS_KEY_ID / _ACCESS_KEY_SECRET / _SIGN_NAME",
    "tencent": "GRIDLINE_CALLBACK_TOKEN 和 GRIDLINE_TENCENT_SECRET_ID / _SECRET_KEY / _SMS_APP_ID / _SIGN_NAME",
    "android": "GRIDLINE_ANDROID_SIGNING_KEY",
}


def push_for(channel: str, settings, phone_e164: str, text: str) -> Push:
    channels = settings.channels
    if not channels.receives(channel):
        raise NotConfigured(f"{channel} 通道未配置：需要设置 {NEEDS[channel]}")
    national = phone_e164[3:] if phone_e164.startswith("+86") else phone_e164
    json_headers = {"Content-Type": "application/json"}
    if channel == "aliyun":
        key = str(uuid.uuid4().int % 10**12)
        item = {"phone_number": national, "content": text, "send_time": time.strftime("%Y-%m-%d %H:%M:%S"),
                "dest_code": "", "sequence_id": int(key), "sign_name": channels.aliyun.sign_name}
        return Push(f"/sms/aliyun/up?token={channels.callback_token}", _json([item]), json_headers, key)
    if channel == "tencent":
        body = {"extend": "", "mobile": national, "nationcode": "86" if phone_e164.startswith("+86") else "",
                "sign": channels.tencent.sign_name, "text": text, "time": int(time.time())}
        return Push(f"/sms/tencent/reply?token={channels.callback_token}", _json(body), json_headers,
                    f"{national}@{body['time']}")
    key = uuid.uuid4().hex
    body = _json({"deviceId": "gridline-simulator", "event": "sms:received", "id": key, "webhookId": "simulator",
                  "payload": {"messageId": uuid.uuid4().hex[:16], "message": text, "phoneNumber": phone_e164,
                              "simNumber": 1, "receivedAt": time.strftime("%Y-%m-%dT%H:%M:%S.000+08:00")}})
    stamp = str(int(time.time()))
    headers = dict(json_headers, **{"X-Timestamp": stamp,
                                    "X-Signature": android_signature(channels.android.signing_key, body, stamp)})
    return Push("/sms/android", body, headers, key)


def _json(data) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")
