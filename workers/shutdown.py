"""Graceful stop for `gridline worker`: the first SIGTERM (or Ctrl-C) lets the job in hand finish
its current message and hand the rest back, instead of working through a whole batch.

RQ's worker already finishes the job in hand on the first signal and stops on the second. Our
long jobs (`drain_inbox`, `send_outbound`, the deadline sweep) look at `requested()` between
messages: a drain pushes the ids it popped but did not process back to the front of the inbox
and schedules a drain for another worker; a send job enqueues its unsent rest. Nothing waits for
a sweep. A worker killed outright (SIGKILL, a lost host) still loses nothing: the messages stay
in the database and the sweeps hand them over again.

Only the in-process worker (the default) sees the flag; with `--fork` the work horse finishes
its whole job.
"""
from __future__ import annotations

import threading

_requested = threading.Event()


def requested() -> bool:
    return _requested.is_set()


def request() -> None:
    _requested.set()


def reset() -> None:
    _requested.clear()

