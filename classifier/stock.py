"""The stock model shipped with the package: train it from the shipped corpus, and measure it.

    python -m classifier.stock train            retrain classifier/data/stock_model.json from
                                                classifier/data/corpus/*.csv and the golden tune sets
    python -m classifier.stock cv [--folds 5]   cross-validated figures on the corpus: stock rules
                                                alone (signals, then keywords) against rules + the
                                                model trained on the other folds; then both on the
                                                golden hold-outs, with a model trained on everything

The corpus files have the columns text,category,subcategory (subcategory for livelihood only).
The model is the linear scorer `classifier learn` exports, at subcategory level (stability,
legal_aid, petition and the eight livelihood subcategories), over words, the rules' signal
families and groups (§collective_action, §g:crowd) and the stock keyword scores. It is the same
whatever machine retrains it: fixed folds, fixed candidates, files read in name order.
"""
from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

from . import STOCK_MODEL_PATH, Classifier
from .evaluate import metrics, read_labelled
from .learn import learn
from .model import label_target
from .rules import load_classifier_rules

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
CORPUS = PACKAGE / "data" / "corpus"
GOLDEN_TUNE = ("golden_tune.csv", "golden_longform_tune.csv")
GOLDEN_HOLDOUT = ("golden_holdout.csv", "golden_longform_holdout.csv")
# Words and the signal features, no word pairs, no character grams: a short feature list keeps
# classification within 1.3x of jieba.lcut (bench/classify.py).
CANDIDATES = (("logreg", 10.0, 0.5, False, False), ("svm", 0.5, 0.5, False, False))


def read_corpus(folder: Path = CORPUS) -> list[tuple[str, str]]:
    """(text, label) from every CSV in the folder; label is the subcategory or the category."""
    rows = []
    for path in sorted(folder.glob("*.csv")):
        with open(path, encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                text = (row.get("text") or "").strip()
                label = (row.get("subcategory") or "").strip() or (row.get("category") or "").strip()
                if text and label:
                    rows.append((text, label))
    return rows


def golden(names) -> list[tuple[str, str]]:
    return [row for name in names for row in read_labelled(ROOT / "tests" / "data" / name)]


def train(rows, classifier: Classifier, candidates=CANDIDATES):
    return learn(classifier, rows, "category", candidates)


def predictions(classifier: Classifier, texts) -> list[tuple[str, str | None]]:
    out = []
    for text in texts:
        r = classifier.classify(text)
        out.append((r.category, r.subcategory))
    return out


def report(title: str, rules, gold_labels, predicted) -> dict:
    """Top-level metrics and confusion, and livelihood subcategory macro-F1 over livelihood cases."""
    gold = [label_target(label, rules) or (label, None) for label in gold_labels]
    top = metrics([g[0] for g in gold], [p[0] for p in predicted])
    live = [(g[1], p[1] or p[0]) for g, p in zip(gold, predicted) if g[1]]
    sub = metrics([g for g, _ in live], [p for _, p in live]) if live else None
    print(f"\n### {title}: n={top['n']} accuracy={top['accuracy']:.3f} macro-F1={top['macro_f1']:.3f}"
          + (f"  livelihood subcategory macro-F1={sub['macro_f1']:.3f} (n={sub['n']})" if sub else ""))
    print("| class | precision | recall | n |\n|---|---|---|---|")
    for label, m in top["per_class"].items():
        print(f"| {label} | {m['precision']:.3f} | {m['recall']:.3f} | {m['support']} |")
    columns = sorted({p for row in top["confusion"].values() for p in row} | set(top["confusion"]))
    print("\nconfusion (rows: truth, columns: answer)\n| | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for g, row in top["confusion"].items():
        print(f"| {g} | " + " | ".join(str(row.get(c, 0)) for c in columns) + " |")
    return {"top": top, "subcategory": sub}


def cross_validate(rows, classifier: Classifier, folds: int) -> None:
    from sklearn.model_selection import StratifiedKFold

    rules = classifier.rules
    labels = [label for _, label in rows]
    texts = [text for text, _ in rows]
    classifier.model = None
    rules_only = predictions(classifier, texts)
    with_model: list = [None] * len(rows)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    for k, (train_rows, test_rows) in enumerate(splitter.split(texts, labels), start=1):
        started = time.perf_counter()
        classifier.model = None
        model = train([rows[i] for i in train_rows], classifier)
        classifier.model = model
        for i, answer in zip(test_rows, predictions(classifier, [texts[i] for i in test_rows])):
            with_model[i] = answer
        print(f"fold {k}/{folds}: {time.perf_counter() - started:.0f} s, {model.info['learner']}", file=sys.stderr)
    classifier.model = None
    report("corpus, stock rules alone (signals, then keywords)", rules, labels, rules_only)
    report(f"corpus, {folds}-fold cross-validation, stock rules + stock model", rules, labels, with_model)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m classifier.stock", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["train", "cv", "holdout"])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--no-golden", action="store_true", help="train on the corpus only, not the golden tune sets")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("-o", "--output", type=Path, default=STOCK_MODEL_PATH)
    args = parser.parse_args(argv)
    rules = load_classifier_rules(ROOT / "routing_rules.yaml")
    classifier = Classifier(rules, stock_model=False)
    rows = read_corpus(args.corpus)
    training = rows + ([] if args.no_golden else golden(GOLDEN_TUNE))
    if args.action == "cv":
        cross_validate(rows, classifier, args.folds)
        return
    started = time.perf_counter()
    model = train(training, classifier)
    took = time.perf_counter() - started
    if args.action == "holdout":  # the golden hold-outs, never trained on
        held = golden(GOLDEN_HOLDOUT)
        report("golden hold-outs, stock rules alone", rules, [l for _, l in held],
               predictions(classifier, [t for t, _ in held]))
        classifier.model = model
        report("golden hold-outs, stock rules + stock model", rules, [l for _, l in held],
               predictions(classifier, [t for t, _ in held]))
        return
    model.info["corpus"] = {"cases": len(training), "files": [p.name for p in sorted(args.corpus.glob("*.csv"))],
                            "golden_tune": not args.no_golden}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.output)
    print(f"{args.output}: {len(training)} cases, {model.info['features']} features, {took:.0f} s; "
          f"cross-validation {model.info['cross_validation']}")


if __name__ == "__main__":
    main()
