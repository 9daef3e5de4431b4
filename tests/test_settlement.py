"""Issue 10, finding 7: a send interrupted during the provider call is settled by asking the
provider before any resend, and noticed in seconds, not five minutes."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from models import OutboundMessage, utcnow
from tests.conftest import RESIDENT_G1, drain_queues, outbox
from tests.test_twilio_provider import stub, twilio_rt  # noqa: F401 (fixtures)
from workers.jobs.sweeps import SENDING_STALLED, sweep_outbound


def _interrupted(rt, stub, took_it: bool) -> OutboundMessage:
    """The resident's receipt as a worker killed during the call leaves it: 'sending', no SID;
    Twilio has it or not."""
    rt.phone.text(RESIDENT_G1, "小区门口路灯坏了", drain=False)
    from rq import Queue, SimpleWorker

    from workers.queues import INBOUND

    SimpleWorker([Queue(INBOUND, connection=rt.redis)], connection=rt.redis).work(burst=True)  # cases, not sends
    rt.redis.flushdb()  # the send job dies with its worker
    [receipt] = outbox(rt, to=RESIDENT_G1, kind="receipt")
    with rt.db.session() as session:
        row = session.get(OutboundMessage, receipt.id)
        row.status, row.attempts = "sending", 1
        row.updated_at = utcnow() - SENDING_STALLED - timedelta(seconds=1)
        session.execute(sa.update(OutboundMessage).where(OutboundMessage.id != receipt.id, OutboundMessage.status == "pending")
                        .values(status="suppressed"))  # only the receipt matters here
    if took_it:
        stub.messages.append({"sid": "SM" + "7" * 32, "status": "sent", "to": RESIDENT_G1,
                              "from": rt.settings.short_number, "body": receipt.body, "num_segments": "1",
                              "date_created": "Mon, 30 Nov 2099 00:00:00 GMT"})
    return receipt


def test_interrupted_send_that_twilio_took_is_recorded_not_resent(twilio_rt, stub):
    receipt = _interrupted(twilio_rt, stub, took_it=True)
    assert sweep_outbound() == 1
    drain_queues(twilio_rt)
    [row] = outbox(twilio_rt, to=RESIDENT_G1, kind="receipt")
    assert row.id == receipt.id and row.status == "sent" and row.provider_sid == "SM" + "7" * 32
    assert stub.sends() == []  # asked, not sent again
    assert any(r.get("query", {}).get("To") == RESIDENT_G1 for r in stub.requests)


def test_interrupted_send_that_twilio_never_got_is_sent_once(twilio_rt, stub):
    _interrupted(twilio_rt, stub, took_it=False)
    assert sweep_outbound() == 1
    drain_queues(twilio_rt)
    [row] = outbox(twilio_rt, to=RESIDENT_G1, kind="receipt")
    assert row.status == "queued" and row.provider_sid
    assert [r["form"]["To"] for r in stub.sends()] == [RESIDENT_G1]
    assert sweep_outbound() == 0  # settled for good


def test_a_send_still_in_its_call_is_left_alone(twilio_rt, stub):
    receipt = _interrupted(twilio_rt, stub, took_it=False)
    with twilio_rt.db.session() as session:
        session.get(OutboundMessage, receipt.id).updated_at = utcnow()  # the call began just now
    assert sweep_outbound() == 0
