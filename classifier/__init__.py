"""Pure text -> classification for Chinese resident reports (no database, no Flask)."""
from __future__ import annotations

from pathlib import Path

from .normalize import normalize
from .rules import ClassifierRules, load_classifier_rules
from .score import Scorer
from .segment import Segmenter
from .types import UNCLASSIFIED, Classification, Match, RunnerUp

__all__ = ["Classifier", "Classification", "ClassifierRules", "Match", "RunnerUp", "UNCLASSIFIED", "normalize"]


class Classifier:
    """Normalise, segment with the rules' domain dictionary, score. Build once per process."""

    def __init__(self, rules: ClassifierRules, cache_dir: Path | None = None, extra_weights=None):
        self.rules = rules
        self.segmenter = Segmenter(rules.all_keywords() | set(extra_weights or ()), cache_dir)
        self.scorer = Scorer(rules, extra_weights)

    @classmethod
    def from_file(cls, path: str | Path, cache_dir: Path | None = None) -> "Classifier":
        return cls(load_classifier_rules(path), cache_dir)

    def tokens(self, text: str) -> list[str]:
        return self.segmenter.tokens(normalize(text))

    def classify(self, text: str) -> Classification:
        return self.scorer.score(self.tokens(text))
