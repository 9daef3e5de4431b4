"""Commit, then hand over: the one unit of work every entry point and job uses.

A unit of work changes rows in one transaction and collects what the workers must do next
(inbound messages to process, SMS to send). Only after the commit are they handed to Redis, so a
worker never looks for a row that is not there yet. If Redis does not answer, the rows are
committed all the same and the sweeps hand them over when it does: nothing is lost.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterable, Iterator

import redis
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
SEND_BATCH = 50


@dataclass
class UnitOfWork:
    session: Session
    inbound: list[int] = field(default_factory=list)
    outbound: list[int] = field(default_factory=list)

    def send(self, message_ids: Iterable[int]) -> None:
        self.outbound.extend(message_ids)


@contextmanager
def unit_of_work(rt) -> Iterator[UnitOfWork]:
    with rt.db.session() as session:
        work = UnitOfWork(session)
        yield work
    after_commit(rt, inbound=work.inbound, outbound=work.outbound)


def after_commit(rt, inbound: Iterable[int] = (), outbound: Iterable[int] = ()) -> None:
    """Hand committed rows to the workers; a Redis failure is logged, the sweeps recover."""
    from . import inbox
    from .jobs.outbound import send_outbound

    inbound, outbound = list(inbound), list(outbound)
    try:
        for message_id in inbound:
            inbox.push(rt.redis, message_id)
        for start in range(0, len(outbound), SEND_BATCH):
            send_outbound.enqueue(rt.redis, outbound[start:start + SEND_BATCH])
    except (redis.RedisError, OSError) as exc:
        log.error("committed but not enqueued inbound=%s outbound=%d error=%s (the sweeps will enqueue them)",
                  inbound, len(outbound), exc)
