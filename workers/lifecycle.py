"""The case state machine (pure): which action is allowed in which status, and where it leads.

    triage ─┬─ transfer ─► assigned ─ acknowledge ─► acknowledged ─ progress ─► in_progress
            │                 │  ▲                        │                        │
            │                 │  └──── reopen ◄── resolved ◄──── resolve ──────────┘
            │                 └─ return ─► returned (the level above re-dispatches or acknowledges)
            └─ escalate (any open status): the team one level up, status assigned
    resolved ─ close (rating 1/2, or no answer) ─► closed ─ reopen (不满意/没解决) ─► assigned
"""
from __future__ import annotations

OPEN = ("triage", "assigned", "acknowledged", "in_progress", "returned")

TRANSITIONS: dict[str, dict[str, str]] = {
    "acknowledge": {"triage": "acknowledged", "assigned": "acknowledged", "returned": "acknowledged"},
    "progress": {"acknowledged": "in_progress", "in_progress": "in_progress", "assigned": "in_progress"},
    "resolve": {"assigned": "resolved", "acknowledged": "resolved", "in_progress": "resolved"},
    "return": {"assigned": "returned", "acknowledged": "returned", "in_progress": "returned"},
    "transfer": {s: "assigned" for s in OPEN},
    "escalate": {s: "assigned" for s in OPEN},
    "reopen": {"resolved": "assigned", "closed": "assigned"},
    "close": {"resolved": "closed"},
}

STATUS_WORDS = {
    "triage": "待分派", "assigned": "已派单", "acknowledged": "已受理", "in_progress": "办理中",
    "resolved": "已办结", "closed": "已结案", "returned": "已退回",
}
ACTION_WORDS = {
    "acknowledge": "受理", "progress": "报告进展", "resolve": "办结", "return": "退回", "transfer": "转办",
    "escalate": "上报", "reopen": "重新打开", "close": "结案",
}


class IllegalStep(Exception):
    """The action is not allowed in the case's status; str() says why, in Chinese."""


def next_status(status: str, action: str) -> str:
    allowed = TRANSITIONS.get(action)
    if allowed is None:
        raise IllegalStep(f"未知操作 {action}")
    if status not in allowed:
        raise IllegalStep(f"案件{STATUS_WORDS.get(status, status)}，不能{ACTION_WORDS.get(action, action)}")
    return allowed[status]
