"""The one way a mainland channel's message gets in: each channel is a door of workers.entry
(a provider push proves the handset, so its texts act as the phone), and its texts become the
same typed Entry as a Twilio SMS, with the same dedupe, opt-out and conversation rules.

Every provider id is namespaced (`aliyun:<sequence_id>`, `tencent:<hash>`, `android:<event id>`):
two providers can never collide, and the prefix records which channel a message came through,
which is the channel its replies go back through (workers.reply_channel).
"""
from __future__ import annotations

import json
import logging
import uuid

from sqlalchemy.exc import IntegrityError

from models import InboundMessage
from models.phones import mask, try_e164
from workers import handoff
from workers.entry import Door, make_entry, register_door, store

log = logging.getLogger(__name__)
MAX_ID = 64
DOORS = {
    "aliyun": register_door(Door("aliyun_sms", "sms", acts_as_phone=True, label="阿里云短信")),
    "tencent": register_door(Door("tencent_sms", "sms", acts_as_phone=True, label="腾讯云短信")),
    "android": register_door(Door("android_sms", "sms", acts_as_phone=True, label="短信手机")),
}


def provider_id(channel: str, key) -> str:
    return f"{channel}:{key}"


def accept(rt, channel: str, phone_raw: str, text: str, key: str, to: str = "", params: dict | None = None) -> int | None:
    """Store one message once per provider key (autocommitted); the new id, or None for a repeat.
    The caller hands stored ids to the workers (`hand_over`) once its whole push is stored."""
    entry = make_entry(DOORS[channel], phone_raw, text, provider_id(channel, key), rt.now(), to=to,
                       params={k: "" if v is None else str(v) for k, v in (params or {}).items()})
    stored = store(rt, entry)
    if stored.outcome == "duplicate":
        log.info("%s push duplicate key=%s", channel, key)
    return stored.message_id if stored.outcome == "stored" else None


def reject(rt, channel: str, key: str | None, raw, reason: str) -> None:
    """Record a push item that cannot become a message, with the reason (nothing is dropped
    silently). Once per provider key when the item has one."""
    sid = provider_id(channel, key) if key else f"malformed-{uuid.uuid4().hex}"
    if len(sid) > MAX_ID:
        sid = f"malformed-{uuid.uuid4().hex}"
    phone_raw = str(raw.get("phone_number") or raw.get("mobile") or raw.get("phoneNumber") or "") if isinstance(raw, dict) else ""
    now = rt.now()
    try:
        with rt.db.session() as session:
            session.add(InboundMessage(
                provider_sid=sid, channel="sms", door=DOORS[channel].name, from_raw=phone_raw[:64],
                from_phone=try_e164(phone_raw) if phone_raw else None, body="",
                params={"raw": json.dumps(raw, ensure_ascii=False, default=str)[:4000]},
                status="rejected", outcome="malformed", outcome_note=reason, received_at=now, processed_at=now))
    except IntegrityError:
        return  # the same bad item pushed again: already recorded
    log.warning("%s push item rejected from=%s reason=%s", channel, mask(try_e164(phone_raw)), reason)


def hand_over(rt, message_ids: list[int]) -> None:
    handoff.after_commit(rt, inbound=message_ids)
