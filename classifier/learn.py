"""Learn keyword weights from labelled past cases into a lexicon the same explainable scorer
uses on top of the stock rules.

For every token and label: a smoothed log-odds of the token appearing in that label's cases
against the others, kept when the token is seen often enough and points clearly at one label.
The lexicon is a small JSON file of {label: {token: weight}}: a person can read why a word
counts, and `gridline classify` shows learned words like stock ones.
"""
from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from pathlib import Path

from .rules import ClassifierRules

MIN_COUNT = 2
MAX_WEIGHT = 6.0


def label_target(label: str, rules: ClassifierRules) -> tuple[str, str | None] | None:
    if label in rules.categories:
        return label, None
    for cat in rules.categories.values():
        if label in cat.subcategories:
            return cat.key, label
    return None


def learn(samples: list[tuple[list[str], str]], min_count: int = MIN_COUNT, top: int = 400) -> dict[str, dict[str, float]]:
    """samples: (tokens, label). Returns {label: {token: weight}} with weights in (0, MAX_WEIGHT]."""
    docs_per_label = Counter(label for _, label in samples)
    token_label = defaultdict(Counter)
    for tokens, label in samples:
        for token in set(tokens):
            if len(token) >= 2:  # single characters over-match
                token_label[token][label] += 1
    total = len(samples)
    labels = list(docs_per_label)
    lexicon: dict[str, dict[str, float]] = {label: {} for label in labels}
    for token, counts in token_label.items():
        seen = sum(counts.values())
        if seen < min_count:
            continue
        for label in labels:
            inside = counts[label]
            if inside < min_count:
                continue
            outside = seen - inside
            p_in = (inside + 0.5) / (docs_per_label[label] + 1)
            p_out = (outside + 0.5) / (total - docs_per_label[label] + 1)
            score = math.log(p_in / p_out)
            if score > 1.0:
                lexicon[label][token] = round(min(MAX_WEIGHT, score), 2)
    for label in labels:
        best = sorted(lexicon[label].items(), key=lambda kv: kv[1], reverse=True)[:top]
        lexicon[label] = dict(best)
    return lexicon


def save_lexicon(lexicon: dict, path: str | Path, level: str) -> None:
    Path(path).write_text(json.dumps({"level": level, "labels": lexicon}, ensure_ascii=False, indent=1), encoding="utf-8")


# Learned words complement the stock rules: a stock keyword keeps its hand-set weight, and a
# learned weight is capped so that history cannot outvote a clear stock keyword on its own.
LEARNED_CAP = 3.0


def load_lexicon(path: str | Path, rules: ClassifierRules) -> dict[str, dict[tuple[str, str | None], float]]:
    """The scorer's extra weights: {token: {(category, subcategory): weight}}."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    stock = rules.all_keywords()
    out: dict[str, dict[tuple[str, str | None], float]] = defaultdict(dict)
    for label, words in data.get("labels", {}).items():
        target = label_target(label, rules)
        if target is None:
            continue
        for word, weight in words.items():
            if word not in stock:
                out[word][target] = min(float(weight), LEARNED_CAP)
    return dict(out)
