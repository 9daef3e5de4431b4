"""send_outbound: hand a batch of queued messages to the provider, one connection reused.
settle_outbound: settle sends that were interrupted, before any resend.

Each message is claimed (pending -> sending) in its own short transaction, so two jobs never
send the same message. Retryable failures go back to pending with a backoff time; the outbound
sweep picks them up when due. A message left 'sending' (the worker died during the provider
call) is noticed by the sweep within seconds; settle_outbound then asks the provider whether it
took the message, records what it says, and sends again only when it never got it.

Providers that are not idempotent and can be asked about one of our messages by its id (Aliyun,
Tencent, the Android phone) hold a send whose outcome is unknown as `unknown` instead; their
delivery report or jobs.settle settles it. Each message goes through the provider it was queued
for (a reply goes back through the resident's channel).
"""
from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa

from models import STATUS_RANK, OptOut, OutboundMessage, utcnow
from models.phones import mask

from .. import runtime, shutdown, stages
from ..providers import BACKOFF_SECONDS, SendResult
from ..queues import OUTBOUND, job

log = logging.getLogger(__name__)
SETTLE_AFTER = timedelta(minutes=2)  # first status query for an unknown send (a report may come first)


@job(OUTBOUND, timeout=300, retries=2)
def send_outbound(message_ids: list[int]) -> dict:
    rt = runtime.get()
    counts: dict[str, int] = {}
    for position, message_id in enumerate(message_ids):
        if shutdown.requested():  # the worker is stopping: another worker sends the rest
            send_outbound.enqueue(rt.redis, message_ids[position:])
            counts["handed_back"] = len(message_ids) - position
            break
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
            to, body, attempts, created_at = message.to, message.body, message.attempts, message.created_at
            provider, template, params = rt.provider_named(message.provider), message.template, dict(message.params or {})
        result = provider.send(message_id, to, body, template, params)
        stages.note("send", (rt.now() - created_at).total_seconds())
        status = _record(rt, message_id, result, attempts, provider)
        counts[status] = counts.get(status, 0) + 1
    stages.flush(rt.redis)
    return counts


@job(OUTBOUND, timeout=300, retries=0)
def settle_outbound(message_ids: list[int], stalled_seconds: float) -> dict:
    rt = runtime.get()
    counts: dict[str, int] = {}
    for message_id in message_ids:
        with rt.db.session() as session:
            message = session.get(OutboundMessage, message_id)
            if message is None or message.status != "sending":
                continue
            since, to, body, attempts = message.updated_at, message.to, message.body, message.attempts
            provider, template, params = rt.provider_named(message.provider), message.template, dict(message.params or {})
            # Claimed by refreshing the lease: a second settler (or a late original) finds it moved.
            claimed = session.execute(
                sa.update(OutboundMessage)
                .where(OutboundMessage.id == message_id, OutboundMessage.status == "sending",
                       OutboundMessage.updated_at == since,
                       OutboundMessage.updated_at <= utcnow() - timedelta(seconds=stalled_seconds))
                .values(updated_at=utcnow())
            ).rowcount
            known = set(session.scalars(sa.select(OutboundMessage.provider_sid).where(
                OutboundMessage.to == to, OutboundMessage.provider_sid.is_not(None))))
        if not claimed:
            continue
        try:
            found = provider.settle(message_id, to, body, since, known)
        except Exception as exc:  # cannot tell: never resend blind; the lease runs out, the sweep asks again
            log.warning("interrupted send not settled id=%s to=%s error=%s", message_id, mask(to), exc)
            counts["unsettled"] = counts.get("unsettled", 0) + 1
            continue
        if found is not None:
            status = _record(rt, message_id, found, attempts, provider)
        else:  # the provider never got it: send it now
            status = _record(rt, message_id, provider.send(message_id, to, body, template, params), attempts, provider)
        counts[status] = counts.get(status, 0) + 1
    return counts


def _record(rt, message_id: int, result: SendResult, attempts: int, provider) -> str:
    """Write a provider's answer on the message; returns its new status."""
    with rt.db.session() as session:
        message = session.get(OutboundMessage, message_id)
        to = message.to
        message.error_code, message.error = result.error_code, result.error
        if result.status == "unknown" and provider.settle_by_query:  # jobs.settle asks by our id
            message.status, message.next_attempt_at = "unknown", utcnow() + SETTLE_AFTER
        elif result.status == "unknown":  # left 'sending': the sweep settles it with the provider
            message.status, message.updated_at = "sending", utcnow()
        elif result.status == "retry":
            if attempts >= len(BACKOFF_SECONDS):
                message.status = "failed"
                message.error = f"{result.error}（已重试 {attempts} 次）"
            else:
                message.status = "pending"
                wait = max(BACKOFF_SECONDS[attempts - 1], result.retry_after or 0)
                message.next_attempt_at = utcnow() + timedelta(seconds=wait)
        elif message.status == "sending" or STATUS_RANK.get(result.status, 0) > STATUS_RANK.get(message.status, 0):
            # (a delivery report may have landed while the call was returning: keep it)
            message.status = result.status
            message.provider_sid = message.provider_sid or result.provider_sid
            message.next_attempt_at = None
        if result.opted_out and session.get(OptOut, to) is None:
            session.add(OptOut(phone=to, source="provider_21610"))
        status = message.status
    if result.status in ("retry", "failed", "unknown"):
        log.warning("sms not sent id=%s to=%s status=%s code=%s error=%s", message_id, mask(to), status,
                    result.error_code, result.error)
    return status
