"""Which provider a message goes out through: a resident's reply goes back through the channel
they used (an Aliyun 106 number, a Tencent one, the office's Android phone) when that channel can
send; everything else through GRIDLINE_SMS_PROVIDER."""
from __future__ import annotations

import sqlalchemy as sa

from models import InboundMessage

CHANNEL_PREFIXES = ("aliyun", "tencent", "android")


def channel_of(provider_sid: str | None) -> str | None:
    """Mainland channels' messages are stored as '<channel>:<key>' (gateway.channels.door)."""
    prefix = (provider_sid or "").partition(":")[0]
    return prefix if prefix in CHANNEL_PREFIXES and ":" in (provider_sid or "") else None


def choose(default: str, senders, to: str, inbound=None, case=None, session=None, cache: dict | None = None) -> str:
    if len(senders) < 2:
        return default
    sid = None
    if inbound is not None and inbound.from_phone == to:
        sid = inbound.provider_sid
    elif case is not None and case.id is not None and case.reporter_phone == to and session is not None:
        cache = {} if cache is None else cache
        if case.id not in cache:
            cache[case.id] = session.scalar(
                sa.select(InboundMessage.provider_sid)
                .where(InboundMessage.case_id == case.id, InboundMessage.from_phone == to)
                .order_by(InboundMessage.id.desc()).limit(1))
        sid = cache[case.id]
    channel = channel_of(sid)
    return channel if channel in senders else default
