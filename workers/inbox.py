"""The inbound hand-off from the webhook to the workers, batched.

The webhook pushes a stored message's id onto a Redis list and, only when no drain job is
already waiting, enqueues one RQ `drain_inbox` job (SET NX on a flag). A drain job clears the
flag first, then pops ids in batches until the list is empty, so a message pushed after that
schedules a new drain job: under load several drains run on several workers at once, and the
webhook pays a list push instead of creating an RQ job per SMS.

Nothing depends on Redis keeping the list: a drain killed with popped ids, or a list lost with
Redis, leaves the messages 'received' in the database, and the inbound sweep enqueues them.
"""
from __future__ import annotations

from . import stages

PENDING = "gridline:inbox:pending"
SCHEDULED = "gridline:inbox:scheduled"
BATCH = 50
# While the flag stands, pushes schedule no drain. A drain job lost with a killed worker before
# it cleared the flag would leave the list unattended until the flag expires (the inbound sweep
# still processes every stored message): keep that short. An extra drain costs one empty pop.
SCHEDULE_TTL = 15


def push(connection, message_id: int) -> None:
    """One round trip; a second one only when a drain job must be scheduled."""
    with connection.pipeline(transaction=False) as pipe:
        pipe.rpush(PENDING, message_id)
        pipe.set(SCHEDULED, "1", nx=True, ex=SCHEDULE_TTL)
        stages.count(pipe, "received")
        _, scheduled, *_ = pipe.execute()
    if scheduled:
        from .jobs.inbound import drain_inbox

        drain_inbox.enqueue(connection)


def give_back(connection, message_ids: list[int]) -> None:
    """Return popped, unprocessed ids to the front of the list (in order) and make sure a drain
    job will take them: a worker stopping gracefully hands its batch over at once."""
    if not message_ids:
        return
    with connection.pipeline(transaction=False) as pipe:
        pipe.lpush(PENDING, *reversed(message_ids))
        pipe.set(SCHEDULED, "1", nx=True, ex=SCHEDULE_TTL)
        _, scheduled = pipe.execute()
    if scheduled:
        from .jobs.inbound import drain_inbox

        drain_inbox.enqueue(connection)


def pop_batch(connection, size: int = BATCH) -> list[int]:
    return [int(v) for v in (connection.lpop(PENDING, size) or [])]


def clear_schedule(connection) -> None:
    connection.delete(SCHEDULED)
