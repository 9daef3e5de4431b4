"""send_outbound: hand a batch of queued messages to the provider, one connection reused.

Each message is claimed (pending -> sending) in its own short transaction, so two jobs never
send the same message. Retryable failures go back to pending with a backoff time; the outbound
sweep picks them up when due.
"""
from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa

from models import OptOut, OutboundMessage, utcnow
from models.phones import mask

from .. import runtime
from ..providers import BACKOFF_SECONDS
from ..queues import OUTBOUND, job

log = logging.getLogger(__name__)


@job(OUTBOUND, timeout=300, retries=2)
def send_outbound(message_ids: list[int]) -> dict:
    rt = runtime.get()
    provider = rt.provider
    counts: dict[str, int] = {}
    for message_id in message_ids:
        with rt.db.session() as session:
            claimed = session.execute(
                sa.update(OutboundMessage)
                .where(OutboundMessage.id == message_id, OutboundMessage.status == "pending")
                .values(status="sending", attempts=OutboundMessage.attempts + 1, updated_at=utcnow())
            ).rowcount
            if not claimed:
                counts["skipped"] = counts.get("skipped", 0) + 1
                continue
            message = session.get(OutboundMessage, message_id)
            to, body, attempts = message.to, message.body, message.attempts
        result = provider.send(message_id, to, body)
        with rt.db.session() as session:
            message = session.get(OutboundMessage, message_id)
            message.error_code, message.error = result.error_code, result.error
            if result.status == "retry":
                if attempts >= len(BACKOFF_SECONDS):
                    message.status = "failed"
                    message.error = f"{result.error}（已重试 {attempts} 次）"
                else:
                    message.status = "pending"
                    message.next_attempt_at = utcnow() + timedelta(seconds=BACKOFF_SECONDS[attempts - 1])
            else:
                message.status = result.status
                message.provider_sid = result.provider_sid
                message.next_attempt_at = None
            if result.opted_out and session.get(OptOut, to) is None:
                session.add(OptOut(phone=to, source="provider_21610"))
            status = message.status
        counts[status] = counts.get(status, 0) + 1
        if result.status in ("retry", "failed"):
            log.warning("sms not sent id=%s to=%s status=%s code=%s error=%s", message_id, mask(to), status,
                        result.error_code, result.error)
    return counts
