"""The providers' push formats (reference/channels-cn.md), read into plain records. Pure: a
function returns a record, or a string saying in Chinese why the item cannot be used."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

ANDROID_ID_PREFIX = "gridline-"  # our message id as SMS Gateway for Android's message id


@dataclass(frozen=True)
class Text:
    """One resident's text from a push."""
    key: str          # the provider's dedupe key
    phone: str        # as received
    text: str
    to: str = ""
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    """One delivery report: for our message id, or for the provider's id of the send."""
    message_id: int | None
    provider_sid: str | None
    phone: str
    status: str       # sent, delivered, undelivered, failed
    error_code: str | None = None
    error: str = ""


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def _key(value) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip() and len(value.strip()) <= 48:
        return value.strip()
    return None


def _phone(value) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _our_id(value) -> int | None:
    text = str(value or "").strip()
    if text.startswith(ANDROID_ID_PREFIX):
        text = text[len(ANDROID_ID_PREFIX):]
    return int(text) if text.isdigit() and len(text) <= 18 else None


# -- Alibaba Cloud ---------------------------------------------------------------------------
def aliyun_up(item) -> Text | str:
    if not isinstance(item, dict):
        return "不是 JSON 对象"
    key = _key(item.get("sequence_id"))
    if key is None:
        return "缺少或无效的 sequence_id"
    phone = _phone(item.get("phone_number"))
    if phone is None:
        return "缺少 phone_number"
    text = _text(item.get("content"))
    if text is None:
        return "缺少 content"
    params = {k: item.get(k) for k in ("send_time", "dest_code", "sign_name") if item.get(k) is not None}
    return Text(key, phone, text, str(item.get("dest_code") or ""), params)


def aliyun_report(item) -> Report | str:
    if not isinstance(item, dict):
        return "不是 JSON 对象"
    message_id, biz_id = _our_id(item.get("out_id")), _key(item.get("biz_id"))
    if message_id is None and biz_id is None:
        return "缺少 out_id 和 biz_id"
    success = item.get("success")
    if isinstance(success, str):
        success = success.strip().lower() == "true"
    if not isinstance(success, bool):
        return "缺少 success"
    code = str(item.get("err_code") or "")[:16] or None
    return Report(message_id, biz_id, str(item.get("phone_number") or ""), "delivered" if success else "undelivered",
                  None if success else code, "" if success else str(item.get("err_msg") or code or ""))


# -- Tencent Cloud ---------------------------------------------------------------------------
def tencent_reply(item) -> Text | str:
    if not isinstance(item, dict):
        return "不是 JSON 对象"
    mobile = _phone(item.get("mobile"))
    if mobile is None:
        return "缺少 mobile"
    when = item.get("time")
    if isinstance(when, str) and when.strip().isdigit():
        when = int(when)
    if not isinstance(when, int) or isinstance(when, bool):
        return "缺少或无效的 time"
    text = _text(item.get("text"))
    if text is None:
        return "缺少 text"
    nation = str(item.get("nationcode") or "").strip().lstrip("+")
    phone = f"+{nation}{mobile}" if nation.isdigit() and not mobile.startswith("+") else mobile
    # No message id: the same mobile, second and text is the same message pushed again.
    key = hashlib.sha256(f"{nation}|{mobile}|{when}|{text}".encode("utf-8")).hexdigest()[:40]
    params = {k: item.get(k) for k in ("time", "extend", "sign", "nationcode") if item.get(k) is not None}
    return Text(key, phone, text, str(item.get("extend") or ""), params)


def tencent_status(item) -> Report | str:
    if not isinstance(item, dict):
        return "不是 JSON 对象"
    sid = _key(item.get("sid"))
    if sid is None:
        return "缺少 sid"
    status = str(item.get("report_status") or "").upper()
    if status not in ("SUCCESS", "FAIL"):
        return "report_status 应为 SUCCESS 或 FAIL"
    nation, mobile = str(item.get("nationcode") or "").strip(), str(item.get("mobile") or "").strip()
    code = str(item.get("errmsg") or "")[:16] or None
    ok = status == "SUCCESS"
    return Report(None, sid, f"+{nation}{mobile}" if nation and mobile else mobile, "delivered" if ok else "undelivered",
                  None if ok else code, "" if ok else str(item.get("description") or code or ""))


# -- SMS Gateway for Android -----------------------------------------------------------------
ANDROID_STATUS = {"sms:sent": "sent", "sms:delivered": "delivered", "sms:failed": "failed"}


def android_envelope(body) -> tuple[str, str, dict] | str:
    """(event id, event, payload)."""
    if not isinstance(body, dict):
        return "不是 JSON 对象"
    event_id, event, payload = _key(body.get("id")), body.get("event"), body.get("payload")
    if event_id is None:
        return "缺少事件 id"
    if not isinstance(event, str) or not isinstance(payload, dict):
        return "缺少 event 或 payload"
    return event_id, event, payload


def android_received(event_id: str, payload: dict, device: str = "") -> Text | str:
    phone = _phone(payload.get("phoneNumber"))
    if phone is None:
        return "缺少 phoneNumber"
    text = _text(payload.get("message"))
    if text is None:
        return "缺少 message"
    params = {k: payload.get(k) for k in ("messageId", "receivedAt", "simNumber") if payload.get(k) is not None}
    if device:
        params["deviceId"] = device
    return Text(event_id, phone, text, "", params)


def android_status(event: str, payload: dict) -> Report | str:
    message_id = _our_id(payload.get("messageId"))
    if message_id is None:
        return "messageId 不是本平台发出的短信"
    status = ANDROID_STATUS[event]
    reason = str(payload.get("reason") or "")
    return Report(message_id, None, str(payload.get("phoneNumber") or ""), status,
                  "android" if status == "failed" else None, reason)
