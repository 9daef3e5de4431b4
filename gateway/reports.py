"""Reports that arrive through a person rather than a provider: an operator's call notes, the
JSON API. Same intake as an SMS, run at once so the caller hears the case number."""
from __future__ import annotations

import uuid

from models.phones import InvalidPhone, to_e164
from workers.jobs.inbound import handle_message
from workers.jobs.outbound import send_outbound

from .twilio.sms import store_inbound

MAX_TEXT = 2000


class ReportError(ValueError):
    """A bad report; str() is the Chinese message for the person who entered it."""


def submit_report(rt, phone: str, text: str, channel: str, entered_by: str) -> int | None:
    """Store and process a report; returns the case id (None when it ended without a case)."""
    text = (text or "").strip()
    if not text:
        raise ReportError("请填写反映内容")
    if len(text) > MAX_TEXT:
        raise ReportError(f"内容超过 {MAX_TEXT} 字")
    try:
        e164 = to_e164(phone)
    except InvalidPhone as exc:
        raise ReportError(f"来电号码：{exc}") from exc
    form = {"MessageSid": f"{channel}-{uuid.uuid4().hex}", "From": e164, "To": "", "Body": text,
            "EnteredBy": entered_by}
    message_id, _ = store_inbound(rt, form, channel=channel)
    _, outbound = handle_message(rt, message_id)
    if outbound:
        send_outbound.enqueue(rt.redis, outbound)
    from models import InboundMessage

    with rt.db.session() as session:
        return session.get(InboundMessage, message_id).case_id
