"""Deadlines (pure): acknowledge-by and resolve-by for a new case."""
from __future__ import annotations

from datetime import datetime

from .policy import Policy


def case_deadlines(opened_at: datetime, category: str, urgency: str, policy: Policy) -> tuple[datetime, datetime]:
    rule = policy.deadline(category, urgency)
    return opened_at + rule.acknowledge, opened_at + rule.resolve
