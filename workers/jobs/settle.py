"""settle_unknown: find out what became of sends whose outcome is unknown.

A provider that is not idempotent (Aliyun, Tencent, the Android phone) may have sent an SMS whose
call timed out. Such a message waits as `unknown`: a delivery report settles it on its own; when
none came, this sweep asks the provider (Aliyun QuerySendDetails, Tencent
PullSmsSendStatusByPhoneNumber, the phone's message state). Only a provider that has no record of
the send a good while after it puts the message back to `pending`, to be sent again; a provider
that cannot be asked leaves it `unknown`, asked again later, and after a day it is left for a
person with a note.
"""
from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa

from models import STATUS_RANK, OutboundMessage

from .. import runtime
from ..queues import SWEEPS, job

log = logging.getLogger(__name__)
ASK_AGAIN = timedelta(minutes=5)
GIVE_UP = timedelta(days=1)
BATCH = 100


@job(SWEEPS, timeout=300, retries=0)
def settle_unknown(now=None) -> dict:
    rt = runtime.get()
    now = now or rt.now()
    with rt.db.session() as session:
        rows = session.execute(
            sa.select(OutboundMessage.id, OutboundMessage.provider, OutboundMessage.to, OutboundMessage.provider_sid,
                      OutboundMessage.updated_at)
            .where(OutboundMessage.status == "unknown", OutboundMessage.next_attempt_at <= now)
            .order_by(OutboundMessage.id).limit(BATCH)
        ).all()
    counts: dict[str, int] = {}
    for message_id, name, to, sid, attempted_at in rows:
        provider = rt.provider_named(name)
        answer = provider.query(message_id, to, sid, attempted_at) if provider.name == name else None
        outcome = _apply(rt, message_id, answer, now - attempted_at, provider.absent_after, now)
        counts[outcome] = counts.get(outcome, 0) + 1
    if rows:
        log.info("settled unknown sends %s", counts)
    return counts


def _apply(rt, message_id: int, answer, age: timedelta, absent_after: timedelta, now) -> str:
    with rt.db.session() as session:
        message = session.get(OutboundMessage, message_id)
        if message is None or message.status != "unknown":
            return "moved"  # a report settled it meanwhile
        if answer is None or (answer.status == "absent" and age < absent_after):
            if age >= GIVE_UP:
                message.next_attempt_at = None
                message.error = "一天内无法确认是否发出，请人工核实（不再自动查询，不重发）"
                return "given_up"
            message.next_attempt_at = now + ASK_AGAIN
            return "still_unknown"
        if answer.status == "absent":
            message.status, message.next_attempt_at = "pending", now
            message.error = "服务商无此发送记录，确认未发出，重新发送"
            return "resend"
        message.status = answer.status if STATUS_RANK.get(answer.status, 0) > STATUS_RANK["unknown"] else "queued"
        message.provider_sid = message.provider_sid or answer.provider_sid
        message.next_attempt_at = None
        message.error_code, message.error = answer.error_code, answer.error
        return answer.status
