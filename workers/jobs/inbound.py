"""process_inbound: one stored inbound message -> case / recorded outcome -> SMS queued."""
from __future__ import annotations

import logging

import sqlalchemy as sa

from models import InboundMessage

from .. import handoff, inbox, runtime, shutdown, stages
from ..intake import Intake
from ..queues import INBOUND, job

log = logging.getLogger(__name__)


@job(INBOUND, timeout=60, retries=3)
def process_inbound(message_id: int) -> str:
    rt = runtime.get()
    outcome, outbound_ids = handle_message(rt, message_id)
    stages.flush(rt.redis)
    handoff.after_commit(rt, outbound=outbound_ids)
    return outcome


def handle_message(rt, message_id: int) -> tuple[str, list[int]]:
    """One message in one unit of work; returns (outcome, ids of SMS to send after commit)."""
    with rt.db.session() as session:
        # Claim first: the UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite) for
        # the whole unit of work, so a duplicate job waits and then finds the message processed.
        # A worker killed mid-job leaves the message 'received' for a retry or the sweep.
        claimed = session.execute(
            sa.update(InboundMessage)
            .where(InboundMessage.id == message_id, InboundMessage.status == "received")
            .values(attempts=InboundMessage.attempts + 1)
        ).rowcount
        if not claimed:
            return "skipped: already processed or unknown", []
        message = session.get(InboundMessage, message_id)
        intake = Intake(session, rt)
        with session.no_autoflush:  # one flush at the end: inserts go out in batches
            intake.handle_inbound(message)
        outbound_ids = intake.notifier.pending_ids()
        outcome = message.outcome or ""
        stages.note("intake", (intake.now - message.received_at).total_seconds())
    log.info("inbound processed id=%s outcome=%s sms=%d", message_id, outcome, len(outbound_ids))
    return outcome, outbound_ids


@job(INBOUND, timeout=600, retries=0)
def drain_inbox() -> int:
    """Process every message id waiting on the inbox list (see workers.inbox)."""
    rt = runtime.get()
    inbox.clear_schedule(rt.redis)
    done = 0
    while ids := inbox.pop_batch(rt.redis):
        outbound: list[int] = []
        for position, message_id in enumerate(ids):
            if shutdown.requested():  # the worker is stopping: hand the rest to another worker
                inbox.give_back(rt.redis, ids[position:])
                break
            outbound += handle_message(rt, message_id)[1]
            done += 1
            if len(outbound) >= handoff.SEND_BATCH:
                handoff.after_commit(rt, outbound=outbound)
                outbound = []
        handoff.after_commit(rt, outbound=outbound)
        stages.flush(rt.redis)
        if shutdown.requested():
            break
    return done
