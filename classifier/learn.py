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

from .evaluate import metrics
from .model import STOCK_CAP, LearnedModel, features, label_target, stock_vector

# (learner, C, stock scale, two-character grams, word pairs): stock scale 0 leaves the stock rules
# out; the first candidate is the plain TF-IDF (words and pairs) + linear SVM baseline. Every
# candidate also sees the signal families and groups of the rules (§collective_action).
CANDIDATES = (
    ("svm", 1.0, 0.0, False, True),
    ("svm", 1.0, 0.5, False, True),
    ("svm", 1.0, 0.5, True, True),
    ("svm", 0.5, 0.5, True, True),
    ("logreg", 20.0, 0.5, True, True),
)
# Used when some label has too few cases to cross-validate: SVM, stock scores and character pairs.
UNVALIDATED = ("svm", 1.0, 0.5, True, True)
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
    extra: list[list[str]] | None = None   # signal features per case


def label_of(label: str, rules, level: str) -> str | None:
    target = label_target(label, rules)
    if target is None:
        return None
    category, subcategory = target
    return category if level == "category" else subcategory or category


def prepare(classifier, rows: list[tuple[str, str]], level: str) -> Prepared:
    """Canonical labels (keys, from keys or Chinese names), tokens, signal features and stock
    scores per case."""
    rules = classifier.rules
    labels = []
    for line, (_, label) in enumerate(rows, start=2):
        key = label_of(label, rules, level)
        if key is None:
            raise LearnError(f"第 {line} 行：未知标签 {label!r}（应为类别或民生子类的键或中文名）")
        labels.append(key)
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise LearnError("至少需要两个不同的标签才能学习")
    targets = [label_target(c, rules) for c in classes]
    tokens, extra = [], []
    for text, _ in rows:
        words, _, signal_features = classifier.analyse(text)
        tokens.append(words)
        extra.append(signal_features)
    stock = [stock_vector(classifier.scorer.score(t), targets) for t in tokens]
    return Prepared(tokens, stock, labels, classes, extra)


def _unpack(candidate):
    kind, c, scale, char_grams, *rest = candidate
    return kind, c, scale, char_grams, (rest[0] if rest else True)


class _Counts:
    """Every case's feature counts for one feature set, counted once (the slow, Python part);
    each fold then takes its vocabulary and TF-IDF from its own training rows, as a
    TfidfVectorizer fitted on them would."""

    def __init__(self, data: Prepared, char_grams: bool, pairs: bool):
        from sklearn.feature_extraction.text import CountVectorizer

        extra = data.extra or [()] * len(data.tokens)
        docs = [features(t, char_grams, pairs, e) for t, e in zip(data.tokens, extra)]
        vectorizer = CountVectorizer(analyzer=lambda doc: doc)
        self.x = vectorizer.fit_transform(docs).tocsc()
        self.names = vectorizer.get_feature_names_out()

    def vocabulary(self, rows, min_df: int):
        """Columns kept for these rows: in min_df of them, the MAX_FEATURES most frequent."""
        import numpy as np

        sub = self.x[rows]
        df = np.diff((sub > 0).tocsc().indptr)
        total = np.asarray(sub.sum(axis=0)).ravel()
        keep = np.flatnonzero(df >= min_df)
        if len(keep) > MAX_FEATURES:
            keep = keep[np.argsort(-total[keep], kind="stable")[:MAX_FEATURES]]
            keep.sort()
        return keep, df[keep]

    def tfidf(self, rows, columns, idf):
        import numpy as np
        from sklearn.preprocessing import normalize

        x = self.x[rows][:, columns].tocsr().astype(np.float64)
        x.data = 1.0 + np.log(x.data)
        x = x.multiply(idf).tocsr()
        return normalize(x)


def _idf(df, n: int):
    import numpy as np

    return np.log((1.0 + n) / (1.0 + df)) + 1.0


def _fit_fold(counts: _Counts, kind, c, scale, train, test, stock, labels, classes, min_df):
    columns, df = counts.vocabulary(train, min_df)
    idf = _idf(df, len(train))
    model = _model(kind, c).fit(_with_stock(counts.tfidf(train, columns, idf), stock[train], scale), labels[train])
    return _decisions(model, _with_stock(counts.tfidf(test, columns, idf), stock[test], scale), classes)


def _model(kind: str, c: float):
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    return LinearSVC(C=c) if kind == "svm" else LogisticRegression(C=c, max_iter=3000)


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


def learn(classifier, rows: list[tuple[str, str]], level: str = "subcategory", candidates=CANDIDATES,
          jobs: int = 2) -> LearnedModel:
    """Cross-validate the candidates (folds run on `jobs` processes), refit the best on every case."""
    import numpy as np
    from joblib import Parallel, delayed
    from sklearn.model_selection import StratifiedKFold

    data = prepare(classifier, rows, level)
    candidates = [_unpack(c) for c in candidates]
    classes, labels = data.classes, np.asarray(data.labels)
    stock = np.asarray(data.stock, dtype=float)
    min_df = 2 if len(rows) >= MIN_DF_FROM else 1
    smallest = min(Counter(data.labels).values())
    gold_index = np.array([classes.index(label) for label in data.labels])
    counted: dict[tuple[bool, bool], _Counts] = {}

    def counts_for(char_grams, pairs):
        if (char_grams, pairs) not in counted:
            counted[(char_grams, pairs)] = _Counts(data, char_grams, pairs)
        return counted[(char_grams, pairs)]

    results = {}
    folds = min(FOLDS, smallest)
    if folds >= 2:
        splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
        splits = list(splitter.split(np.zeros(len(labels)), labels))
        tasks = [(candidate, test, delayed(_fit_fold)(counts_for(candidate[3], candidate[4]), candidate[0],
                                                      candidate[1], candidate[2], train, test, stock, labels,
                                                      classes, min_df))
                 for candidate in candidates for train, test in splits]
        outputs = Parallel(n_jobs=jobs, backend="threading")(task for _, _, task in tasks)
        out_of_fold = {candidate: np.zeros((len(labels), len(classes))) for candidate in candidates}
        for (candidate, test, _), decisions in zip(tasks, outputs):
            out_of_fold[candidate][test] = decisions
        for candidate in candidates:
            predicted = [classes[k] for k in out_of_fold[candidate].argmax(axis=1)]
            results[candidate] = (metrics(list(labels), predicted)["macro_f1"], out_of_fold[candidate])
        chosen = max(candidates, key=lambda cand: (results[cand][0], cand[2]))
        temperature = min(TEMPERATURES, key=lambda t: _nll(results[chosen][1], gold_index, t))
    else:  # too few cases of some label to cross-validate
        chosen, temperature = (candidates[0] if len(candidates) == 1 else UNVALIDATED), 3.0

    kind, c, scale, char_grams, pairs = chosen
    counts = counts_for(char_grams, pairs)
    everything = np.arange(len(labels))
    columns, df = counts.vocabulary(everything, min_df)
    idf = _idf(df, len(labels))
    model = _model(kind, c).fit(_with_stock(counts.tfidf(everything, columns, idf), stock, scale), labels)
    order = [list(model.classes_).index(label) for label in classes]
    coef = np.asarray(model.coef_)
    intercept = np.asarray(model.intercept_)
    if coef.shape[0] == 1:  # two classes: sklearn keeps one row for the second class
        coef = np.vstack([-coef / 2, coef / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    else:
        coef, intercept = coef[order], intercept[order]
    n_words = len(columns)
    table = np.column_stack([idf, coef[:, :n_words].T]).astype("=f4")  # row i: column i's feature
    matrix = array("f")
    matrix.frombytes(table.tobytes())
    info = {
        "cases": len(rows),
        "per_label": dict(sorted(Counter(data.labels).items())),
        "features": n_words,
        "learner": {"kind": kind, "C": c, "stock_scale": scale, "char_grams": char_grams, "pairs": pairs},
        "cross_validation": {_name(cand): round(f1, 4) for cand, (f1, _) in results.items()},
        "folds": folds if folds >= 2 else 0,
    }
    return LearnedModel(
        labels=classes, level=level, index={str(counts.names[col]): i for i, col in enumerate(columns)},
        matrix=matrix, bias=[float(b) for b in intercept],
        stock_weights=[[float(w) for w in coef[k, n_words:]] for k in range(len(classes))],
        stock_scale=scale, temperature=temperature, info=info, char_grams=char_grams, pairs=pairs,
        signals=data.extra is not None,
    )


def _name(candidate) -> str:
    kind, c, scale, char_grams, pairs = _unpack(candidate)
    return f"{kind} C={c:g} stock={scale:g}" + ("" if pairs else " 无词对") + (" +字" if char_grams else "")


def cross_validated_macro_f1(model: LearnedModel) -> float | None:
    """The winning candidate's macro-F1 across the training folds (None when too few cases)."""
    learner = model.info.get("learner", {})
    key = _name((learner.get("kind"), learner.get("C", 0), learner.get("stock_scale", 0), learner.get("char_grams", False),
                 learner.get("pairs", True)))
    value = model.info.get("cross_validation", {}).get(key)
    return None if value is None or math.isnan(value) else value
