"""The decision, in the order of categories.md: risk -> intent -> addressee -> topic (pure).

1. The signal families that fired are taken in order (stability, legal aid, petition): the first
   one decides, unless a model is loaded and gives its category almost no chance (a veto: the
   model has seen such words in messages of another kind). Stability is urgent whatever the
   topic, and the topic's department is named so that routing can inform it.
2. Without a deciding signal, the model (or, without one, the stock keywords) decides. A model's
   stability reading wins from RISK_FLOOR on, even when another reading is likelier.
3. A reading the model is not sure of, or no keyword at all, goes to triage (`unclassified`)
   with the two best readings and their reasons, never a silent guess.
"""
from __future__ import annotations

from dataclasses import replace

from .model import EXPLAIN_MIN, EXPLAIN_TOP, LearnedModel, _stock_subcategory, readable
from .rules import ClassifierRules
from .signals import STAGES
from .types import UNCLASSIFIED, Classification, Match, RunnerUp

# A signal's category stands unless the model gives it less than this probability.
VETO = {"stability": 0.02, "legal_aid": 0.12, "petition": 0.12}
# Without a deciding signal, a model answer below this probability goes to triage.
MIN_CONFIDENCE = 0.45
# A missed stability case is the costliest error: without a signal, the model's stability
# reading wins from this probability on.
RISK_FLOOR = 0.35
# A model answer (other than stability) with neither a signal nor a stock keyword behind it needs
# this probability: a bare question (你好，在吗) is not a request for legal aid.
MODEL_ALONE = 0.7
# The confidence reported for a signal's decision when no model gives a probability.
SIGNAL_CONFIDENCE = 0.9
READING_WORDS = 4

_departments: dict = {}


def departments_of(rules: ClassifierRules) -> dict[str, str]:
    key = id(rules)
    if key not in _departments:
        _departments[key] = {s.key: s.department for c in rules.categories.values() for s in c.subcategories.values()}
    return _departments[key]


class Reading:
    """What a model says about one message: per label probabilities, per category sums."""
    __slots__ = ("model", "targets", "scores", "probs", "x", "cat_p", "best")

    def __init__(self, model: LearnedModel, rules, tokens, stock, extra):
        self.model, self.targets = model, model.targets(rules)
        self.scores, self.probs, self.x = model.probabilities(tokens, stock, rules, extra)
        cat_p: dict[str, float] = {}
        for (category, _), p in zip(self.targets, self.probs):
            cat_p[category] = cat_p.get(category, 0.0) + p
        self.cat_p = cat_p
        self.best = max(range(len(self.probs)), key=self.probs.__getitem__)

    def drop(self, categories: set[str]) -> None:
        """Give these categories no chance, and share their probability among the others."""
        kept = [0.0 if t[0] in categories else p for t, p in zip(self.targets, self.probs)]
        total = sum(kept) or 1.0
        self.probs = [p / total for p in kept]
        self.cat_p = {c: (0.0 if c in categories else p / total) for c, p in self.cat_p.items()}
        self.best = max(range(len(self.probs)), key=self.probs.__getitem__)

    def best_of(self, category: str) -> int:
        return max((k for k, t in enumerate(self.targets) if t[0] == category), key=self.probs.__getitem__)

    def words_for(self, label: int, n: int = EXPLAIN_TOP) -> list[tuple[str, float]]:
        """The features that pushed a label most, strongest first."""
        rows = self.model.rows()
        if not rows:
            return [(w, c) for w, c in self.model.pushes(self.x, label).most_common(n) if c >= EXPLAIN_MIN]
        pushed = [(v * rows[f][1][label], f) for f, v in self.x.items()]
        pushed = sorted((cf for cf in pushed if cf[0] >= EXPLAIN_MIN), reverse=True)[:n]
        return [(readable(f), c) for c, f in pushed]


def decide(stock: Classification, signals, rules: ClassifierRules, model: LearnedModel | None = None,
           tokens=(), extra=()) -> Classification:
    departments = departments_of(rules)
    # A category's exclusions (消防演练, 游戏) cancel its signals and its model reading, as they
    # cancel its keywords.
    excluded = {key for key, cat in rules.categories.items() if cat.exclude and not cat.exclude_none(tokens)}
    signals = tuple(s for s in signals if s.category not in excluded)
    reading = Reading(model, rules, tokens, stock, extra) if model is not None else None
    if reading is not None and excluded:
        reading.drop(excluded)
    cat_p = reading.cat_p if reading else None
    topic = _topic(reading, stock)
    chosen = next((s for s in signals if cat_p is None or cat_p.get(s.category, 0.0) >= VETO.get(s.category, 0.0)),
                  None)
    if chosen is not None:  # 1. a signal, in the order risk -> intent -> addressee
        category = chosen.category
        words = tuple(Match(w, 1.0, category, None, source="signal") for w in chosen.words)
        return _answer(stock, category, None, departments.get(topic) if topic else None,
                       cat_p[category] if cat_p else SIGNAL_CONFIDENCE,
                       words + tuple(m for m in stock.matched if m.category == category and m.keyword not in chosen.words),
                       _runner_up(cat_p, category, signals, rules, stock, topic), reading, signals, topic,
                       {"stage": chosen.stage, "category": category, "family": chosen.family, "label": chosen.label,
                        "words": list(chosen.words)})
    if reading is None:  # 2. the stock keywords
        if not stock.classified:
            return _triage(stock, None, signals, topic, rules)
        stage = "topic" if stock.category == "livelihood" else "keywords"
        department = stock.department if stock.category == "livelihood" else (departments.get(topic) if topic else None)
        return replace(stock, department=department, urgency="urgent" if stock.category == "stability" else stock.urgency,
                       signals=signals, topic=stock.subcategory if stock.category == "livelihood" else topic,
                       decision={"stage": stage, "category": stock.category,
                                 "words": [m.keyword for m in stock.matched if m.category == stock.category][:6]})
    assert model is not None and cat_p is not None
    if set(cat_p) != set(rules.categories):  # a city's model of some categories only
        return _partial_model(stock, model, rules, tokens, extra, reading, signals, topic, departments)
    # 2. the model
    best = reading.best
    category = reading.targets[best][0]
    if cat_p.get("stability", 0.0) >= RISK_FLOOR:
        best, category = reading.best_of("stability"), "stability"
    elif cat_p[category] < (MIN_CONFIDENCE if stock.classified else MODEL_ALONE):
        return _triage(stock, reading, signals, topic, rules)
    else:
        best = reading.best_of(category)
    subcategory = reading.targets[best][1]
    if category == "livelihood" and subcategory is None:
        subcategory = _stock_subcategory(stock, "livelihood")
        if subcategory is None:  # a service failure, but of which service? No department to send it to
            return _triage(stock, reading, signals, topic, rules)
    learned = tuple(Match(w, round(c, 3), category, subcategory, source="learned") for w, c in reading.words_for(best))
    matched = tuple(m for m in stock.matched if m.category == category) + learned
    named = subcategory if category == "livelihood" else topic
    department = departments.get(named) if named else None
    return _answer(stock, category, subcategory if category == "livelihood" else None, department, cat_p[category],
                   matched, _runner_up(cat_p, category, signals, rules), reading, signals,
                   subcategory if category == "livelihood" else topic,
                   {"stage": "topic" if category == "livelihood" else "model", "category": category,
                    "words": list(dict.fromkeys(m.keyword for m in matched))[:6]})


def _answer(stock, category, subcategory, department, confidence, matched, runner_up, reading, signals, topic,
            decision) -> Classification:
    scores = dict(zip(reading.model.labels, reading.probs)) if reading else stock.scores
    score = reading.scores[reading.best] if reading else stock.score
    return Classification(category, subcategory, department, "urgent" if category == "stability" else stock.urgency,
                          score, confidence, matched, stock.negated, stock.urgent_words, stock.tokens, runner_up,
                          scores, decision, signals, topic)


def _partial_model(stock, model, rules, tokens, extra, reading, signals, topic, departments) -> Classification:
    """A city's model that knows some categories only: its own rule (model.decide) stands."""
    base = model.decide(tokens, stock, rules, extra, (reading.scores, reading.probs, reading.x))
    if not base.classified:
        return _triage(stock, None, signals, topic, rules)
    matched = tuple(sorted(base.matched, key=lambda m: m.source != "rules"))
    department = base.department if base.category == "livelihood" else (departments.get(topic) if topic else None)
    return replace(base, department=department, matched=matched, signals=signals,
                   urgency="urgent" if base.category == "stability" else base.urgency,
                   topic=base.subcategory if base.category == "livelihood" else topic,
                   decision={"stage": "topic" if base.category == "livelihood" else "model", "category": base.category,
                             "words": [m.keyword for m in matched if m.category == base.category][:6]})


def _topic(reading: Reading | None, stock: Classification) -> str | None:
    """The livelihood subcategory a message is about: the model's likeliest one, or the keywords'."""
    if reading is not None:
        best, best_p = None, 0.0
        for (category, subcategory), p in zip(reading.targets, reading.probs):
            if category == "livelihood" and subcategory and p > best_p:
                best, best_p = subcategory, p
        if best is not None:
            return best
    return _stock_subcategory(stock, "livelihood")


def _runner_up(cat_p, category: str, signals, rules: ClassifierRules, stock=None, topic=None) -> RunnerUp | None:
    """Another plausible reading for co-handling: a later signal's category, the topic a signal
    outranked when its keywords alone would have decided it, or the model's next reading."""
    for s in signals:
        if s.category != category:
            return RunnerUp(s.category, None, round(cat_p.get(s.category, 0.0), 3) if cat_p else 0.0)
    if stock is not None and topic and category != "stability" and stock.scores.get("livelihood", 0.0) >= rules.min_score:
        return RunnerUp("livelihood", topic, round(stock.scores["livelihood"], 3))
    if cat_p:
        others = sorted(((p, c) for c, p in cat_p.items() if c != category), reverse=True)
        if others and others[0][0] >= rules.runner_up_ratio * cat_p.get(category, 1.0):
            return RunnerUp(others[0][1], None, round(others[0][0], 3))
    return None


def _triage(stock, reading, signals, topic, rules) -> Classification:
    """Unclassified, with the two best readings and the reasons for each."""
    if reading is not None:
        ranked = sorted(reading.cat_p.items(), key=lambda cp: cp[1], reverse=True)[:2]
        readings = []
        for category, p in ranked:
            best = reading.best_of(category)
            pushed = [w for w, c in reading.words_for(best, READING_WORDS * 2) if not w.startswith("[")]
            readings.append(_reading(category, reading.targets[best][1], p, signals, pushed, stock))
        confidence = ranked[0][1]
    else:
        ranked = sorted(((v, k) for k, v in stock.scores.items() if v > 0), reverse=True)[:2]
        readings = [_reading(category, _stock_subcategory(stock, category), score, signals, [], stock)
                    for score, category in ranked]
        confidence = stock.confidence
    scores = ({label: round(p, 4) for label, p in zip(reading.model.labels, reading.probs)} if reading else stock.scores)
    return Classification(UNCLASSIFIED, None, None, stock.urgency, stock.score, confidence, stock.matched,
                          stock.negated, stock.urgent_words, stock.tokens, None, scores,
                          {"stage": "none", "category": UNCLASSIFIED, "words": []}, signals, topic, tuple(readings))


def _reading(category, subcategory, weight, signals, pushed, stock) -> dict:
    keywords = [m.keyword for m in stock.matched if m.category == category]
    families = [s.label for s in signals if s.category == category]
    words = list(dict.fromkeys(keywords + pushed))[:READING_WORDS]
    return {"category": category, "subcategory": subcategory, "score": round(weight, 3),
            "stage": STAGES.get(category, "topic"), "signals": families, "words": words}

