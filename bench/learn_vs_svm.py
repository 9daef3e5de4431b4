"""Learning from labelled cases: Gridline's rules + learned lexicon against TF-IDF + linear SVM
trained on the same cases, on the same held-out cases. Prints a table.

Needs scikit-learn (pip install scikit-learn; only this benchmark uses it).
Usage: python bench/learn_vs_svm.py TRAIN.csv TEST.csv   (columns text,label; livelihood
subcategory labels are scored at subcategory level)
Default: tests/data/golden_tune.csv -> tests/data/golden_holdout.csv
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from classifier import Classifier  # noqa: E402
from classifier.evaluate import metrics, read_labelled  # noqa: E402
from classifier.learn import label_target, learn, load_lexicon, save_lexicon  # noqa: E402
from classifier.rules import load_classifier_rules  # noqa: E402


def subcategory_rows(rows, rules):
    return [(t, l) for t, l in rows if (label_target(l, rules) or (None, None))[1] is not None]


def main() -> None:
    train_path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests/data/golden_tune.csv"
    test_path = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "tests/data/golden_holdout.csv"
    rules = load_classifier_rules(ROOT / "routing_rules.yaml")
    stock = Classifier(rules)
    train = subcategory_rows(read_labelled(train_path), rules)
    test = subcategory_rows(read_labelled(test_path), rules)
    gold = [label for _, label in test]

    def score(clf):
        return metrics(gold, [clf.classify(t).subcategory or clf.classify(t).category for t, _ in test])

    with tempfile.TemporaryDirectory() as tmp:
        lexicon_path = Path(tmp) / "lexicon.json"
        save_lexicon(learn([(stock.tokens(t), l) for t, l in train]), lexicon_path, "subcategory")
        learned = Classifier(rules, extra_weights=load_lexicon(lexicon_path, rules))
    rows = [("stock rules", score(stock)), ("stock rules + learned lexicon", score(learned))]
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        vectorizer = TfidfVectorizer(tokenizer=stock.tokens, token_pattern=None, ngram_range=(1, 2), sublinear_tf=True)
        model = LinearSVC(C=1.0).fit(vectorizer.fit_transform([t for t, _ in train]), [l for _, l in train])
        predicted = list(model.predict(vectorizer.transform([t for t, _ in test])))
        rows.append(("TF-IDF (jieba tokens, 1-2 grams) + LinearSVC", metrics(gold, predicted)))
    except ImportError:
        rows.append(("TF-IDF + LinearSVC: pip install scikit-learn", None))
    print(f"\nLivelihood subcategories: trained on {len(train)} cases ({train_path.name}), "
          f"tested on {len(test)} held-out cases ({test_path.name})")
    print("| model | accuracy | macro-F1 |\n|---|---|---|")
    for name, m in rows:
        print(f"| {name} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} |" if m else f"| {name} | - | - |")


if __name__ == "__main__":
    main()
