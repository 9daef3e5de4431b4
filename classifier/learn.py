"""Learn from a city's labelled past cases (text,label) a model the classifier applies on top of
the stock rules.

Features (sublinear TF-IDF):
- the words and adjacent word pairs of jieba's segmentation, as a TF-IDF + linear SVM baseline
  would use;
- optionally every two adjacent characters, which keep misspelt or oddly segmented words useful;
- the stock rules' own score for every label, so the model learns how far to trust the
  hand-written keywords on this city's cases.

The CANDIDATES (linear SVM or logistic regression, with or without each optional part) are
compared by cross-validation on the training cases, and the best macro-F1 wins. The first
candidate is the plain TF-IDF + linear SVM baseline, so the choice does not fall below it on the
cases it was measured on. The winner is refitted on all cases and exported as plain numbers
(`model.LearnedModel`).

scikit-learn is needed here only; workers score with the exported numbers.
"""
from __future__ import annotations

import math
from array import array
from collections import Counter
from dataclasses import dataclass
from functools import partial

from .evaluate import metrics
from .model import STOCK_CAP, LearnedModel, features, label_target, stock_vector

# (learner, C, stock scale, two-character grams): stock scale 0 leaves the stock rules out; the
# first candidate is the plain TF-IDF (words and pairs) + linear SVM baseline.
CANDIDATES = (
    ("svm", 1.0, 0.0, False),
    ("svm", 1.0, 0.5, False),
    ("svm", 1.0, 0.0, True),
    ("svm", 1.0, 0.5, True),
    ("svm", 0.5, 0.5, True),
    ("logreg", 20.0, 0.5, True),
)
# Used when some label has too few cases to cross-validate: SVM, stock scores and character pairs.
UNVALIDATED = ("svm", 1.0, 0.5, True)
# The vocabulary keeps at most this many features (the most frequent): a worker holds each one
# in memory, about 0.5 KB with its weights.
MAX_FEATURES = 100_000
# From this many cases on, a feature must occur in two of them: below it, the rare words are
# most of what there is to learn from (149 cases: macro-F1 0.48 with them dropped, 0.63 kept).
MIN_DF_FROM = 2000
FOLDS = 3
TEMPERATURES = (0.5, 1.0, 2.0, 3.0, 5.0, 8.0)


class LearnError(ValueError):
    pass


@dataclass
class Prepared:
    tokens: list[list[str]]
    stock: list[list[float]]
    labels: list[str]         # one per case
    classes: list[str]        # sorted distinct labels


def prepare(classifier, rows: list[tuple[str, str]], level: str) -> Prepared:
    """Canonical labels (keys, from keys or Chinese names), tokens and stock scores per case."""
    rules = classifier.rules
    labels = []
    for line, (_, label) in enumerate(rows, start=2):
        target = label_target(label, rules)
        if target is None:
            raise LearnError(f"第 {line} 行：未知标签 {label!r}（应为类别或民生子类的键或中文名）")
        category, subcategory = target
        labels.append(category if level == "category" else subcategory or category)
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise LearnError("至少需要两个不同的标签才能学习")
    targets = [label_target(c, rules) for c in classes]
    tokens = [classifier.tokens(text) for text, _ in rows]
    stock = [stock_vector(classifier.scorer.score(t), targets) for t in tokens]
    return Prepared(tokens, stock, labels, classes)


def _fit(kind: str, c: float, scale: float, char_grams: bool, tokens, stock, labels, min_df: int):
    import numpy as np
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    vectorizer = TfidfVectorizer(analyzer=partial(features, char_grams=char_grams), sublinear_tf=True, min_df=min_df,
                                 max_features=MAX_FEATURES)
    x = _with_stock(vectorizer.fit_transform(tokens), stock, scale)
    model = LinearSVC(C=c) if kind == "svm" else LogisticRegression(C=c, max_iter=3000)
    model.fit(x, labels)
    return vectorizer, model


def _with_stock(x, stock, scale: float):
    """The TF-IDF columns, then the stock scores as the scorer feeds them (model.scaled_stock)."""
    import numpy as np
    import scipy.sparse as sp

    return sp.hstack([x, sp.csr_matrix(np.minimum(np.asarray(stock) * scale, STOCK_CAP))]).tocsr()


def _decisions(model, x, classes):
    """Decision values as (cases, classes), also for two-class models (one column from sklearn)."""
    import numpy as np

    d = model.decision_function(x)
    if d.ndim == 1:
        d = np.stack([-d / 2, d / 2], axis=1)
    order = [list(model.classes_).index(c) for c in classes]
    return d[:, order]


def _nll(decisions, gold_index, temperature: float) -> float:
    import numpy as np

    z = decisions * temperature
    z = z - z.max(axis=1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(gold_index)), gold_index].mean())


def learn(classifier, rows: list[tuple[str, str]], level: str = "subcategory", candidates=CANDIDATES) -> LearnedModel:
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    data = prepare(classifier, rows, level)
    classes, labels = data.classes, np.asarray(data.labels)
    tokens = np.empty(len(data.tokens), dtype=object)
    tokens[:] = data.tokens
    stock = np.asarray(data.stock, dtype=float)
    min_df = 2 if len(rows) >= MIN_DF_FROM else 1
    smallest = min(Counter(data.labels).values())
    gold_index = np.array([classes.index(label) for label in data.labels])

    results = {}
    folds = min(FOLDS, smallest)
    if folds >= 2:
        splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
        splits = list(splitter.split(np.zeros(len(labels)), labels))
        for candidate in candidates:
            kind, c, scale, char_grams = candidate
            out_of_fold = np.zeros((len(labels), len(classes)))
            for train, test in splits:
                vectorizer, model = _fit(kind, c, scale, char_grams, list(tokens[train]), stock[train], labels[train],
                                         min_df)
                x_test = _with_stock(vectorizer.transform(list(tokens[test])), stock[test], scale)
                out_of_fold[test] = _decisions(model, x_test, classes)
            predicted = [classes[k] for k in out_of_fold.argmax(axis=1)]
            results[candidate] = (metrics(list(labels), predicted)["macro_f1"], out_of_fold)
        chosen = max(candidates, key=lambda cand: (results[cand][0], cand[2]))
        temperature = min(TEMPERATURES, key=lambda t: _nll(results[chosen][1], gold_index, t))
    else:  # too few cases of some label to cross-validate
        chosen, temperature = (candidates[0] if len(candidates) == 1 else UNVALIDATED), 3.0

    kind, c, scale, char_grams = chosen
    vectorizer, model = _fit(kind, c, scale, char_grams, list(tokens), stock, labels, min_df)
    order = [list(model.classes_).index(label) for label in classes]
    coef = np.asarray(model.coef_)
    intercept = np.asarray(model.intercept_)
    if coef.shape[0] == 1:  # two classes: sklearn keeps one row for the second class
        coef = np.vstack([-coef / 2, coef / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    else:
        coef, intercept = coef[order], intercept[order]
    vocabulary = vectorizer.vocabulary_
    n_words = len(vocabulary)
    table = np.column_stack([vectorizer.idf_, coef[:, :n_words].T]).astype("=f4")  # row i: column i's feature
    matrix = array("f")
    matrix.frombytes(table.tobytes())
    info = {
        "cases": len(rows),
        "per_label": dict(sorted(Counter(data.labels).items())),
        "features": n_words,
        "learner": {"kind": kind, "C": c, "stock_scale": scale, "char_grams": char_grams},
        "cross_validation": {_name(cand): round(f1, 4) for cand, (f1, _) in results.items()},
        "folds": folds if folds >= 2 else 0,
    }
    return LearnedModel(
        labels=classes, level=level, index=dict(vocabulary), matrix=matrix, bias=[float(b) for b in intercept],
        stock_weights=[[float(w) for w in coef[k, n_words:]] for k in range(len(classes))],
        stock_scale=scale, temperature=temperature, info=info, char_grams=char_grams,
    )


def _name(candidate) -> str:
    kind, c, scale, char_grams = candidate
    return f"{kind} C={c:g} stock={scale:g}" + (" +字" if char_grams else "")


def cross_validated_macro_f1(model: LearnedModel) -> float | None:
    """The winning candidate's macro-F1 across the training folds (None when too few cases)."""
    learner = model.info.get("learner", {})
    key = _name((learner.get("kind"), learner.get("C", 0), learner.get("stock_scale", 0), learner.get("char_grams", False)))
    value = model.info.get("cross_validation", {}).get(key)
    return None if value is None or math.isnan(value) else value
