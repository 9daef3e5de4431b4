"""Pure text -> classification for Chinese resident reports (no database, no Flask)."""
from __future__ import annotations

import logging
import os
from pathlib import Path

from .decide import decide
from .model import LearnedModel, LexiconError, signal_features
from .normalize import normalize
from .rules import ClassifierRules, load_classifier_rules
from .score import Scorer
from .segment import Segmenter
from .signals import SignalFinder
from .types import UNCLASSIFIED, Classification, Match, RunnerUp

__all__ = ["Classifier", "Classification", "ClassifierRules", "LearnedModel", "LexiconError", "Match", "RunnerUp",
           "UNCLASSIFIED", "normalize", "STOCK_MODEL_PATH", "stock_model_wanted"]

log = logging.getLogger(__name__)

# The stock model shipped with the package (`python -m classifier.stock` retrains it).
STOCK_MODEL_PATH = Path(__file__).parent / "data" / "stock_model.json"
# GRIDLINE_STOCK_MODEL=off: rules only (signals, then keywords); a path: another stock model.
STOCK_MODEL_ENV = "GRIDLINE_STOCK_MODEL"
OFF = {"0", "off", "no", "false", "none"}


def stock_model_wanted(env=os.environ) -> Path | None:
    value = env.get(STOCK_MODEL_ENV, "").strip()
    if value.lower() in OFF:
        return None
    return Path(value) if value else STOCK_MODEL_PATH


_stock_models: dict = {}


def _load_stock(path: Path, rules: ClassifierRules) -> LearnedModel | None:
    """The stock model, read once per process (per file version and rules object)."""
    key = (str(path), path.stat().st_mtime_ns, id(rules))
    if key not in _stock_models:
        try:
            _stock_models[key] = LearnedModel.load(path, rules)
        except LexiconError as exc:
            log.warning("stock model not used: %s", exc)
            _stock_models[key] = None
    return _stock_models[key]


class Classifier:
    """Normalise, segment with the rules' domain dictionary, find signals, score, decide in the order
    risk -> intent -> addressee -> topic. Build once per process.

    model: a city's own lexicon (`classifier learn`); without one, the stock model shipped with the
    package is used unless stock_model=False or GRIDLINE_STOCK_MODEL=off.
    """

    def __init__(self, rules: ClassifierRules, cache_dir: Path | None = None, model: LearnedModel | None = None,
                 stock_model: bool | None = None):
        self.rules = rules
        self.segmenter = Segmenter(rules.all_keywords() | rules.signals.words(), cache_dir)
        self.scorer = Scorer(rules)
        self.signals = SignalFinder(rules.signals)
        self.lexicon = model
        self.stock_model = None
        if model is None and stock_model is not False:
            path = stock_model_wanted() if stock_model is None else STOCK_MODEL_PATH
            if path is not None and path.is_file():
                self.stock_model = _load_stock(path, rules)
        self.model = model or self.stock_model

    @classmethod
    def from_file(cls, path: str | Path, cache_dir: Path | None = None, stock_model: bool | None = None) -> "Classifier":
        return cls(load_classifier_rules(path), cache_dir, stock_model=stock_model)

    def tokens(self, text: str) -> list[str]:
        return self.segmenter.tokens(normalize(text))

    def analyse(self, text: str):
        """(tokens, signals that fired, signal features) of a text."""
        text = normalize(text)
        tokens = self.segmenter.tokens(text)
        hits = self.signals.hits(text)
        signals = self.signals.fired(hits)
        return tokens, signals, signal_features(signals, hits)

    def classify(self, text: str) -> Classification:
        tokens, signals, extra = self.analyse(text)
        return decide(self.scorer.score(tokens), signals, self.rules, self.model, tokens, extra)
