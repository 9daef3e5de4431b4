"""A model learned from a city's own labelled cases, applied on top of the stock rules (pure).

`gridline classifier learn` writes it as a JSON lexicon:
- the vocabulary (words, adjacent word pairs and, when chosen, two-character grams) with, per
  entry, its IDF and one weight per label, stored as one float32 matrix in base64 (80,000 JSON
  number lists cost a worker 80 MB to load; the matrix costs a fraction);
- per label a bias and the weights given to the stock rules' own scores;
- for people, each label's strongest words in plain JSON (`top_words`).

Scoring is the linear model the trainer fitted, over the same features (sublinear TF-IDF,
L2-normalised, plus the stock scores), so a prediction is a sum of readable parts: `gridline
classify` lists the words that pushed the answer, each with its contribution, beside the stock
keywords. Pure Python at run time (no numpy): a worker loads a few MB of floats, not a
machine-learning stack.
"""
from __future__ import annotations

import base64
import json
import math
import operator
import sys
from array import array
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from .rules import ClassifierRules
from .types import UNCLASSIFIED, Classification, Match, RunnerUp

FORMAT = 2
PAIR = "+"                 # joins the two words of a pair feature: 楼上+漏水
SIGNAL = "§"               # marks a signal feature: §collective_action (a family), §g:crowd (a group)
CHARS = "~"                # marks a two-character feature: ~漏水
STOCK_CAP = 3.0            # a stock score enters the model as min(score * scale, cap)
# A stock answer in a category the model never saw stands when it is at least this confident and
# more confident than the model: a fight stays a fight for a model of livelihood cases, while a
# long housing complaint that mentions 举报 goes where the city's own cases say.
KEEP_STOCK_CONFIDENCE = 0.6
MIN_CONFIDENCE = 0.4       # below this, with no stock answer either, the message goes to triage
EXPLAIN_TOP = 8            # learned words listed in an explanation, at most
EXPLAIN_MIN = 0.01         # and only those that moved the answer at least this much
ROWS_UP_TO = 30_000        # a model with at most this many features is scored from Python tuples


class LexiconError(ValueError):
    pass


def features(tokens, char_grams: bool = False, pairs: bool = True, extra=()) -> list[str]:
    """Words, adjacent word pairs (unless pairs is off), with char_grams every two adjacent
    characters (~漏水), which keep a misspelt or oddly segmented word useful, and the extra
    features of the message (the signal families and groups it shows, §collective_action); the
    trainer and the scorer both use exactly this."""
    words = [t for t in tokens if t.strip()]
    out = words + [a + PAIR + b for a, b in zip(words, words[1:])] if pairs else words
    if char_grams:
        text = "".join(words)
        out += [CHARS + text[i:i + 2] for i in range(len(text) - 1)]
    if extra:
        out = out + list(extra)
    return out


def scaled_stock(stock: list[float], scale: float) -> list[float]:
    """How the stock scores enter the model (the trainer's learn._with_stock does the same)."""
    return [min(s * scale, STOCK_CAP) for s in stock]


def readable(feature: str) -> str:
    """How an explanation shows a feature: a word, a pair (楼上+漏水), characters without the mark."""
    if feature.startswith(SIGNAL):  # §g:crowd -> [crowd], §collective_action -> [collective_action]
        return "[" + feature[len(SIGNAL):].removeprefix("g:") + "]"
    return feature[len(CHARS):] if feature.startswith(CHARS) else feature


def signal_features(signals, hits) -> list[str]:
    """The model's features for the signals of a message: each family that fired, each group found."""
    return [SIGNAL + s.family for s in signals] + [SIGNAL + "g:" + g for g in hits]


def canonical_label(label: str, rules: ClassifierRules) -> str | None:
    """A category or subcategory key, from its key or its Chinese name (城乡建设 -> urban_construction)."""
    label = label.strip()
    keys = {key: key for key in rules.labels()}
    names = {name: key for key, name in rules.labels().items()}
    return keys.get(label) or names.get(label) or keys.get(label.lower())


def label_target(label: str, rules: ClassifierRules) -> tuple[str, str | None] | None:
    """(category, subcategory or None) for a label, or None when the rules do not know it."""
    key = canonical_label(label, rules)
    if key is None:
        return None
    if key in rules.categories:
        return key, None
    for cat in rules.categories.values():
        if key in cat.subcategories:
            return cat.key, key
    return None


def stock_vector(result: Classification, targets: list[tuple[str, str | None]]) -> list[float]:
    """The stock rules' score for each label: a category's total, or a subcategory's own sum."""
    if all(sub is None for _, sub in targets):
        scores = result.scores
        return [scores.get(cat, 0.0) for cat, _ in targets]
    sub_scores: Counter = Counter()
    for match in result.matched:
        if match.subcategory is not None and match.source == "rules":
            sub_scores[match.subcategory] += match.weight
    return [result.scores.get(cat, 0.0) if sub is None else sub_scores[sub] for cat, sub in targets]


@dataclass
class LearnedModel:
    labels: list[str]
    level: str
    index: dict[str, int]          # feature -> its row in matrix
    matrix: array                  # float32 rows of [idf, w_label0, w_label1, ...]
    bias: list[float]
    stock_weights: list[list[float]]  # [label][stock label]
    stock_scale: float
    temperature: float             # softmax(decision * temperature) -> confidence
    info: dict
    char_grams: bool = False       # features include two-character grams
    pairs: bool = True             # features include adjacent word pairs
    signals: bool = False          # features include the signal families and groups (§...)

    @property
    def width(self) -> int:
        return len(self.labels) + 1

    def weights_of(self, feature: str) -> dict[str, float] | None:
        """{label: weight} of one word or word pair (a+b), None when it is not in the vocabulary."""
        if feature not in self.index:
            return None
        start = self.index[feature] * self.width + 1
        return dict(zip(self.labels, self.matrix[start:start + len(self.labels)]))

    def top_words(self, n: int = 30) -> dict[str, dict[str, float]]:
        out = {}
        for k, label in enumerate(self.labels):
            column = ((f, self.matrix[row * self.width + 1 + k]) for f, row in self.index.items())
            out[label] = {f: round(w, 3) for f, w in sorted(column, key=lambda fw: fw[1], reverse=True)[:n]}
        return out

    # -- file -------------------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        vocabulary = sorted(self.index, key=self.index.get)
        data = {
            "format": FORMAT, "level": self.level, "labels": self.labels, "bias": self.bias,
            "stock_scale": self.stock_scale, "stock_weights": self.stock_weights,
            "temperature": self.temperature, "char_grams": self.char_grams, "pairs": self.pairs,
            "signals": self.signals, "info": self.info,
            "top_words": self.top_words(),
            "vocabulary": vocabulary,
            "matrix": base64.b64encode(_little_endian(self.matrix).tobytes()).decode("ascii"),
        }
        Path(path).write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path, rules: ClassifierRules) -> "LearnedModel":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise LexiconError(f"{path}: not a lexicon file ({exc})") from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise LexiconError(f"{path}: lexicon format {data.get('format', 1) if isinstance(data, dict) else '?'} "
                               f"is not {FORMAT}; run gridline classifier learn again")
        try:
            labels, vocabulary = list(data["labels"]), list(data["vocabulary"])
            matrix = array("f")
            matrix.frombytes(base64.b64decode(data["matrix"], validate=True))
            matrix = _little_endian(matrix)
            bias, stock_weights = [float(b) for b in data["bias"]], [[float(w) for w in row] for row in data["stock_weights"]]
            stock_scale = float(data["stock_scale"])
        except (KeyError, TypeError, ValueError) as exc:
            raise LexiconError(f"{path}: damaged lexicon ({exc!r})") from exc
        unknown = [label for label in labels if label_target(label, rules) is None]
        if unknown:
            raise LexiconError(f"{path}: labels not in the routing rules: {', '.join(unknown)}")
        if len(matrix) != len(vocabulary) * (len(labels) + 1) or len(bias) != len(labels):
            raise LexiconError(f"{path}: damaged lexicon ({len(matrix)} numbers for {len(vocabulary)} entries "
                               f"and {len(labels)} labels)")
        return cls(labels=labels, level=data.get("level", "subcategory"),
                   index={f: i for i, f in enumerate(vocabulary)}, matrix=matrix, bias=bias,
                   stock_weights=stock_weights, stock_scale=stock_scale,
                   temperature=float(data.get("temperature", 1.0)), info=data.get("info", {}),
                   char_grams=bool(data.get("char_grams", False)), pairs=bool(data.get("pairs", True)),
                   signals=bool(data.get("signals", False)))

    # -- scoring ----------------------------------------------------------------------------------
    def rows(self) -> dict[str, tuple[float, tuple[float, ...]]]:
        """feature -> (idf, weights), as Python tuples, for a small model (the stock model): a
        third faster to score than slices of the float32 matrix. A large city lexicon keeps the
        compact matrix only."""
        if getattr(self, "_rows", None) is None:
            if len(self.index) > ROWS_UP_TO:
                self._rows = {}
            else:
                width, matrix = self.width, self.matrix
                self._rows = {f: (matrix[i * width], tuple(matrix[i * width + 1:(i + 1) * width]))
                              for f, i in self.index.items()}
        return self._rows

    def vector(self, tokens, extra=()) -> dict[str, float]:
        """Sublinear TF-IDF over known features, L2-normalised (as scikit-learn's TfidfVectorizer)."""
        index, matrix, width = self.index, self.matrix, self.width
        counts = Counter(f for f in features(tokens, self.char_grams, self.pairs, extra if self.signals else ())
                         if f in index)
        values = {f: (1.0 + math.log(n) if n > 1 else 1.0) * matrix[index[f] * width] for f, n in counts.items()}
        norm = math.sqrt(sum(v * v for v in values.values()))
        return {f: v / norm for f, v in values.items()} if norm else {}

    def _fast_vector(self, rows, tokens, extra) -> dict[str, tuple[float, tuple[float, ...]]]:
        """{feature: (TF-IDF value, weights)} for a small model, in one pass (same values as vector)."""
        found: dict[str, list] = {}
        for f in features(tokens, self.char_grams, self.pairs, extra if self.signals else ()):
            row = rows.get(f)
            if row is not None:
                held = found.get(f)
                if held is None:
                    found[f] = [1, row]
                else:
                    held[0] += 1
        if not found:
            return {}
        log = math.log
        values = {f: ((1.0 + log(n) if n > 1 else 1.0) * row[0], row[1]) for f, (n, row) in found.items()}
        norm = 1.0 / math.sqrt(sum(v * v for v, _ in values.values()))
        return {f: (v * norm, w) for f, (v, w) in values.items()}

    def decisions(self, tokens, stock: list[float], extra=()) -> tuple[list[float], dict[str, float]]:
        rows = self.rows()
        if rows:
            scores = list(self.bias)
            fast = self._fast_vector(rows, tokens, extra)
            for value, weights in fast.values():
                scores = [s + value * w for s, w in zip(scores, weights)]
            x = {f: v for f, (v, _) in fast.items()}
        else:
            x = self.vector(tokens, extra)
            scores = list(self.bias)
            index, matrix, width = self.index, self.matrix, self.width
            for feature, value in x.items():
                start = index[feature] * width + 1
                scores = [s + value * w for s, w in zip(scores, matrix[start:start + width - 1])]
        scaled = scaled_stock(stock, self.stock_scale)
        if any(scaled):
            scores = [s + sum(map(operator.mul, row, scaled)) for s, row in zip(scores, self.stock_weights)]
        return scores, x

    def _plan(self, rules: ClassifierRules):
        """Per rules object, once: each label's (category, subcategory), and the departments."""
        if getattr(self, "_planned_for", None) is not rules:
            self._targets = [label_target(label, rules) for label in self.labels]
            self._covered = {cat for cat, _ in self._targets}
            self._departments = {sub.key: sub.department for cat in rules.categories.values()
                                 for sub in cat.subcategories.values()}
            self._planned_for = rules
        return self._targets, self._covered, self._departments

    def targets(self, rules: ClassifierRules) -> list[tuple[str, str | None]]:
        """Each label's (category, subcategory)."""
        return self._plan(rules)[0]

    def probabilities(self, tokens, stock: Classification, rules: ClassifierRules, extra=()):
        """(decision values, probabilities, the message's feature vector), one of each per label."""
        targets, _, _ = self._plan(rules)
        scores, x = self.decisions(tokens, stock_vector(stock, targets), extra)
        top = max(scores)
        exps = [math.exp((s - top) * self.temperature) for s in scores]
        total = sum(exps)
        return scores, [e / total for e in exps], x

    def category_probabilities(self, probs: list[float], rules: ClassifierRules) -> dict[str, float]:
        targets, _, _ = self._plan(rules)
        out: dict[str, float] = {}
        for (category, _), p in zip(targets, probs):
            out[category] = out.get(category, 0.0) + p
        return out

    def pushes(self, x: dict[str, float], label: int) -> Counter:
        """How much each feature of a message pushed one label (index into labels)."""
        out: Counter = Counter()
        rows = self.rows()
        if rows:
            for f, v in x.items():
                out[readable(f)] += v * rows[f][1][label]
            return out
        column, index, matrix, width = label + 1, self.index, self.matrix, self.width
        for f, v in x.items():
            out[readable(f)] += v * matrix[index[f] * width + column]
        return out

    def decide(self, tokens, stock: Classification, rules: ClassifierRules, extra=(), computed=None) -> Classification:
        targets, covered, departments = self._plan(rules)
        scores, probs, x = computed or self.probabilities(tokens, stock, rules, extra)
        if not x and not stock.classified:
            return stock
        ranked = sorted(range(len(scores)), key=lambda k: probs[k], reverse=True)
        best = ranked[0]
        if probs[best] < MIN_CONFIDENCE and not stock.classified:
            return stock
        if (stock.classified and stock.category not in covered
                and stock.confidence >= max(KEEP_STOCK_CONFIDENCE, probs[best])):
            return stock  # a clear fight, for a model that has only seen livelihood cases
        category, subcategory = targets[best]
        if subcategory is None:
            subcategory = _stock_subcategory(stock, category)
        runner_up = None
        if len(ranked) > 1 and probs[ranked[1]] >= rules.runner_up_ratio * probs[best]:
            second_cat, second_sub = targets[ranked[1]]
            if (second_cat, second_sub) != (category, subcategory):
                runner_up = RunnerUp(second_cat, second_sub, round(scores[ranked[1]], 3))
        explained = tuple(Match(f, round(c, 3), category, targets[best][1], source="learned")
                          for f, c in self.pushes(x, best).most_common(EXPLAIN_TOP) if c >= EXPLAIN_MIN)
        return replace(
            stock, category=category, subcategory=subcategory,
            department=departments.get(subcategory) if subcategory else None,
            score=round(scores[best], 3), confidence=probs[best],
            matched=explained + tuple(m for m in stock.matched if m.category == category),
            runner_up=runner_up,
            scores={label: round(p, 4) for label, p in zip(self.labels, probs)},
        )


def _little_endian(matrix: array) -> array:
    """The file stores little-endian float32; swap on a big-endian machine."""
    if sys.byteorder == "big":
        matrix = array("f", matrix)
        matrix.byteswap()
    return matrix


def _stock_subcategory(stock: Classification, category: str) -> str | None:
    """For a model that predicts categories only: the stock rules' best subcategory within it."""
    if stock.category == category:
        return stock.subcategory
    sums: Counter = Counter()
    for match in stock.matched:
        if match.category == category and match.subcategory:
            sums[match.subcategory] += match.weight
    return sums.most_common(1)[0][0] if sums else None
