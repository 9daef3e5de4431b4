"""The decision, in the order of categories.md: risk -> intent -> addressee -> topic (pure).

1. The signal families that fired are taken in order (stability, legal aid, petition): the first
   one decides, unless a model is loaded and gives its category almost no chance (a veto: the
   model has seen such words in messages of another kind). Stability is urgent whatever the
   topic, and the topic's department is named so that routing can inform it.
2. Without a deciding signal, the model (or, without one, the stock keywords) decides by topic.
3. A reading the model is not sure of, or no keyword at all, goes to triage (`unclassified`)
   with the two best readings and their reasons, never a silent guess.
"""
from __future__ import annotations

from dataclasses import replace

from .model import SIGNAL, LearnedModel, _stock_subcategory, label_target
from .rules import ClassifierRules
from .signals import STAGES
from .types import UNCLASSIFIED, Classification, Match, RunnerUp

# A signal's category stands unless the model gives it less than this probability.
VETO = {"stability": 0.02, "legal_aid": 0.12, "petition": 0.12}
# Without a deciding signal, a model answer below this probability goes to triage.
MIN_CONFIDENCE = 0.45
# The confidence reported for a signal's decision when no model gives a probability.
SIGNAL_CONFIDENCE = 0.9
READING_WORDS = 4


def decide(stock: Classification, signals, rules: ClassifierRules, model: LearnedModel | None = None,
           tokens=(), extra=()) -> Classification:
    departments = {s.key: s.department for c in rules.categories.values() for s in c.subcategories.values()}
    computed = cat_p = None
    if model is not None:
        computed = model.probabilities(tokens, stock, rules, extra)
        cat_p = model.category_probabilities(computed[1], rules)
    chosen = next((s for s in signals if cat_p is None or cat_p.get(s.category, 0.0) >= VETO.get(s.category, 0.0)),
                  None)
    base = model.decide(tokens, stock, rules, extra, computed) if model is not None else stock
    topic = _topic(model, computed, stock, rules)
    signals = tuple(signals)
    if chosen is not None:
        category = chosen.category
        words = tuple(Match(w, 1.0, category, None, source="signal") for w in chosen.words)
        runner_up = _runner_up(cat_p, category, signals, rules)
        return replace(
            base, category=category, subcategory=None, department=departments.get(topic) if topic else None,
            urgency="urgent" if category == "stability" else base.urgency,
            confidence=cat_p[category] if cat_p else SIGNAL_CONFIDENCE, score=base.score,
            matched=words + tuple(m for m in base.matched if m.category == category and m.keyword not in chosen.words),
            runner_up=runner_up, signals=signals, topic=topic,
            decision={"stage": chosen.stage, "category": category, "family": chosen.family, "label": chosen.label,
                      "words": list(chosen.words)},
        )
    if not base.classified or (cat_p is not None and cat_p.get(base.category, 0.0) < MIN_CONFIDENCE):
        return replace(base, category=UNCLASSIFIED, subcategory=None, department=None, runner_up=None,
                       confidence=max(cat_p.values()) if cat_p else base.confidence, signals=signals, topic=topic,
                       readings=_readings(base, stock, model, computed, cat_p, signals, rules),
                       decision={"stage": "none", "category": UNCLASSIFIED, "words": []})
    stage = "topic" if base.category == "livelihood" else ("model" if model is not None else "keywords")
    if base.category != "livelihood" and base.subcategory is None:
        base = replace(base, department=departments.get(topic) if topic else None)
    if base.category == "stability":
        base = replace(base, urgency="urgent")
    return replace(base, signals=signals, topic=topic if base.category != "livelihood" else base.subcategory,
                   decision={"stage": stage, "category": base.category,
                             "words": [m.keyword for m in base.matched if m.category == base.category][:6]})


def _topic(model, computed, stock: Classification, rules: ClassifierRules) -> str | None:
    """The livelihood subcategory a message is about: the model's likeliest one, or the keywords'."""
    if model is not None:
        best, best_p = None, 0.0
        for label, p in zip(model.labels, computed[1]):
            target = label_target(label, rules)
            if target and target[0] == "livelihood" and target[1] and p > best_p:
                best, best_p = target[1], p
        if best is not None:
            return best
    return _stock_subcategory(stock, "livelihood")


def _runner_up(cat_p, category: str, signals, rules: ClassifierRules) -> RunnerUp | None:
    """Another plausible reading for co-handling: a later signal's category, or the model's next."""
    for s in signals:
        if s.category != category:
            return RunnerUp(s.category, None, round(cat_p.get(s.category, 0.0), 3) if cat_p else 0.0)
    if cat_p:
        others = sorted(((p, c) for c, p in cat_p.items() if c != category), reverse=True)
        if others and others[0][0] >= rules.runner_up_ratio * cat_p.get(category, 1.0):
            return RunnerUp(others[0][1], None, round(others[0][0], 3))
    return None


def _readings(base, stock, model, computed, cat_p, signals, rules) -> tuple[dict, ...]:
    """The two best readings of a message sent to triage, each with its reason."""
    if cat_p:
        ranked = sorted(cat_p.items(), key=lambda cp: cp[1], reverse=True)[:2]
        out = []
        for category, p in ranked:
            labels = [k for k, label in enumerate(model.labels) if (label_target(label, rules) or ("",))[0] == category]
            best = max(labels, key=lambda k: computed[1][k])
            pushed = [w for w, c in model.pushes(computed[2], best).most_common(READING_WORDS * 2)
                      if c > 0 and not w.startswith(SIGNAL)][:READING_WORDS]
            target = label_target(model.labels[best], rules)
            out.append(_reading(category, target[1] if target else None, p, signals, pushed, stock))
        return tuple(out)
    ranked = sorted(((v, k) for k, v in stock.scores.items() if v > 0), reverse=True)[:2]
    return tuple(_reading(category, _stock_subcategory(stock, category), score, signals,
                          [], stock) for score, category in ranked)


def _reading(category, subcategory, weight, signals, pushed, stock) -> dict:
    keywords = [m.keyword for m in stock.matched if m.category == category][:READING_WORDS]
    families = [s.label for s in signals if s.category == category]
    words = list(dict.fromkeys(keywords + pushed))[:READING_WORDS]
    return {"category": category, "subcategory": subcategory, "score": round(weight, 3),
            "stage": STAGES.get(category, "topic"), "signals": families, "words": words}
