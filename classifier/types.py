"""Value types the classifier returns. Plain frozen dataclasses; `to_dict` gives the JSON shape."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

UNCLASSIFIED = "unclassified"
URGENCIES = ("urgent", "normal", "low")


class Match(NamedTuple):
    """A keyword found in a message (a tuple: made per keyword per message, so cheap to build)."""
    keyword: str
    weight: float
    category: str
    subcategory: str | None = None
    negated: bool = False
    source: str = "rules"   # "rules": a keyword of routing_rules.yaml; "learned": a learned feature


@dataclass(frozen=True)
class RunnerUp:
    category: str
    subcategory: str | None
    score: float


@dataclass(slots=True)
class Classification:
    """One answer; fields in this order (the scorer builds it positionally). Not frozen: built
    once per message, and a frozen dataclass costs three times as much to build."""
    category: str
    subcategory: str | None
    department: str | None
    urgency: str
    score: float
    confidence: float
    matched: tuple[Match, ...] = ()
    negated: tuple[Match, ...] = ()
    urgent_words: tuple[str, ...] = ()
    tokens: tuple[str, ...] = ()
    runner_up: RunnerUp | None = None
    scores: dict = field(default_factory=dict)
    # What decided, in the order risk -> intent -> addressee -> topic: {"stage", "family", "label",
    # "words", ...}; every signal family that fired; the livelihood subcategory the message is
    # about whatever its category (a crowd over wages: labor_social_security); for a message sent
    # to triage, the two best readings with their reasons.
    decision: dict | None = None
    signals: tuple = ()
    topic: str | None = None
    readings: tuple = ()

    @property
    def classified(self) -> bool:
        return self.category != UNCLASSIFIED

    def to_dict(self) -> dict:
        return {
            "category": self.category,
            "subcategory": self.subcategory,
            "department": self.department,
            "urgency": self.urgency,
            "score": round(self.score, 3),
            "confidence": round(self.confidence, 3),
            "matched": [
                {"keyword": m.keyword, "weight": m.weight, "category": m.category, "subcategory": m.subcategory,
                 "source": m.source}
                for m in self.matched
            ],
            "negated": [{"keyword": m.keyword, "category": m.category} for m in self.negated],
            "urgent_words": list(self.urgent_words),
            "runner_up": (
                {"category": self.runner_up.category, "subcategory": self.runner_up.subcategory,
                 "score": round(self.runner_up.score, 3)}
                if self.runner_up else None
            ),
            "scores": {k: round(v, 3) for k, v in self.scores.items()},
            "decision": self.decision,
            "signals": [s.to_dict() for s in self.signals],
            "topic": self.topic,
            "readings": list(self.readings),
            "tokens": list(self.tokens),
        }
