"""Periodic sweeps: nothing stored is ever left behind.

- inbound messages still 'received' a while after arrival (Redis was down, a worker died) are
  enqueued again; processing is idempotent;
- outbound messages 'pending' and due (never enqueued, or waiting for a retry) are sent again;
  those left 'sending' (a worker died during the provider call) are settled with the provider
  first (settle_outbound), and sent again only if it never got them.
"""
from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa

from models import InboundMessage, OutboundMessage, utcnow

from .. import runtime
from ..queues import SWEEPS, job
from .inbound import process_inbound
from .outbound import send_outbound, settle_outbound

log = logging.getLogger(__name__)
INBOUND_GRACE = timedelta(seconds=20)
# A live send holds 'sending' for at most the provider's HTTP timeout (10 s) and two commits.
SENDING_STALLED = timedelta(seconds=20)
BATCH = 500


@job(SWEEPS, timeout=300, retries=0)
def sweep_inbound(grace_seconds: float | None = None) -> int:
    rt = runtime.get()
    grace = INBOUND_GRACE if grace_seconds is None else timedelta(seconds=grace_seconds)
    with rt.db.session() as session:
        ids = list(session.scalars(
            sa.select(InboundMessage.id)
            .where(InboundMessage.status == "received", InboundMessage.received_at <= rt.now() - grace)
            .order_by(InboundMessage.id).limit(BATCH)
        ))
    if ids:
        with rt.redis.pipeline() as pipe:
            for message_id in ids:
                process_inbound.enqueue(rt.redis, message_id, pipeline=pipe)
            pipe.execute()
        log.info("sweep re-enqueued inbound=%d", len(ids))
    return len(ids)


@job(SWEEPS, timeout=300, retries=0)
def sweep_outbound(grace_seconds: float | None = None, now=None) -> int:
    rt = runtime.get()
    now = now or rt.now()
    grace = timedelta(seconds=20 if grace_seconds is None else grace_seconds)
    with rt.db.session() as session:
        # Interrupted sends (real time: a lease, not the business clock) are settled, not resent.
        stalled = list(session.scalars(
            sa.select(OutboundMessage.id)
            .where(OutboundMessage.status == "sending", OutboundMessage.updated_at <= utcnow() - SENDING_STALLED)
            .order_by(OutboundMessage.id).limit(BATCH)))
        # Quiet hours are over for messages held until now.
        session.execute(
            sa.update(OutboundMessage)
            .where(OutboundMessage.status == "held", OutboundMessage.next_attempt_at <= now)
            .values(status="pending")
        )
        ids = list(session.scalars(
            sa.select(OutboundMessage.id).where(
                OutboundMessage.status == "pending",
                sa.or_(
                    OutboundMessage.next_attempt_at <= now,
                    sa.and_(OutboundMessage.next_attempt_at.is_(None), OutboundMessage.created_at <= now - grace),
                ),
            ).order_by(OutboundMessage.id).limit(BATCH)
        ))
    for start in range(0, len(ids), 50):
        send_outbound.enqueue(rt.redis, ids[start:start + 50])
    for start in range(0, len(stalled), 50):
        settle_outbound.enqueue(rt.redis, stalled[start:start + 50], SENDING_STALLED.total_seconds())
    if ids or stalled:
        log.info("sweep re-enqueued outbound=%d interrupted=%d", len(ids), len(stalled))
    return len(ids) + len(stalled)
