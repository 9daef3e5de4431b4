"""Pure text -> classification for Chinese resident reports (no database, no Flask)."""
from __future__ import annotations

from pathlib import Path

from .model import LearnedModel, LexiconError
from .normalize import normalize
from .rules import ClassifierRules, load_classifier_rules
from .score import Scorer
from .segment import Segmenter
from .types import UNCLASSIFIED, Classification, Match, RunnerUp

__all__ = ["Classifier", "Classification", "ClassifierRules", "LearnedModel", "LexiconError", "Match", "RunnerUp",
           "UNCLASSIFIED", "normalize"]


class Classifier:
    """Normalise, segment with the rules' domain dictionary, score. Build once per process."""

    def __init__(self, rules: ClassifierRules, cache_dir: Path | None = None, model: LearnedModel | None = None):
        self.rules = rules
        self.segmenter = Segmenter(rules.all_keywords(), cache_dir)
        self.scorer = Scorer(rules)
        self.model = model

    @classmethod
    def from_file(cls, path: str | Path, cache_dir: Path | None = None) -> "Classifier":
        return cls(load_classifier_rules(path), cache_dir)

    def tokens(self, text: str) -> list[str]:
        return self.segmenter.tokens(normalize(text))

    def classify(self, text: str) -> Classification:
        tokens = self.tokens(text)
        stock = self.scorer.score(tokens)
        return self.model.decide(tokens, stock, self.rules) if self.model else stock
