"""Learning from labelled cases, on livelihood subcategories: the stock rules, the stock rules plus
a model from `gridline classifier learn`, and TF-IDF (the same jieba tokens, words and word
pairs) + LinearSVC trained on the same cases, scored on the same held-out cases. Prints a table.

Usage:
  python bench/learn_vs_svm.py                  5-fold cross-validation over every livelihood case
                                                in tests/data (the golden sets)
  python bench/learn_vs_svm.py TRAIN.csv TEST.csv   train on one file, test on the other
  python bench/learn_vs_svm.py --scale 5000     time `learn` on 5,000 cases of about 300
                                                characters: three golden cases of one label
                                                plus 60 words drawn from jieba's dictionary, so
                                                the vocabulary grows as a real city's does
                                                (timing, size and memory only: no accuracy)
"""
from __future__ import annotations

import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from classifier import Classifier, LearnedModel  # noqa: E402
from classifier.evaluate import metrics, read_labelled  # noqa: E402
from classifier.learn import learn  # noqa: E402
from classifier.model import label_target  # noqa: E402
from classifier.rules import load_classifier_rules  # noqa: E402

GOLDEN = ["golden_tune.csv", "golden_holdout.csv", "golden_longform_tune.csv", "golden_longform_holdout.csv"]


def livelihood(rows, rules):
    return [(t, l) for t, l in rows if (label_target(l, rules) or (None, None))[1] is not None]


def svm_predictions(stock: Classifier, train, test) -> list[str]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    vectorizer = TfidfVectorizer(tokenizer=stock.tokens, token_pattern=None, lowercase=False, ngram_range=(1, 2),
                                 sublinear_tf=True)
    model = LinearSVC(C=1.0).fit(vectorizer.fit_transform([t for t, _ in train]), [l for _, l in train])
    return list(model.predict(vectorizer.transform([t for t, _ in test])))


def compare(stock: Classifier, train, test) -> dict[str, list[str]]:
    learned = Classifier(stock.rules, model=learn(stock, train))
    alone = Classifier(stock.rules, model=learn(stock, train, candidates=(("svm", 1.0, 0.0, True),)))

    def predict(clf):
        return [(lambda r: r.subcategory or r.category)(clf.classify(t)) for t, _ in test]

    return {
        "stock rules": predict(stock),
        "stock rules + learned model (`classifier learn`)": predict(learned),
        "learned model with the stock scores left out (words, pairs, two-character grams)": predict(alone),
        "TF-IDF (same tokens, 1-2 grams) + LinearSVC": svm_predictions(stock, train, test),
    }


def table(title: str, gold: list[str], predictions: dict[str, list[str]]) -> None:
    print(f"\n{title}")
    print("| model | accuracy | macro-F1 |\n|---|---|---|")
    for name, predicted in predictions.items():
        m = metrics(gold, predicted)
        print(f"| {name} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} |")


def cross_validation(stock: Classifier, rows, folds: int = 5) -> None:
    from sklearn.model_selection import StratifiedKFold

    gold_all, predictions = [], {}
    splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    for train_index, test_index in splitter.split([t for t, _ in rows], [l for _, l in rows]):
        train, test = [rows[i] for i in train_index], [rows[i] for i in test_index]
        gold_all += [l for _, l in test]
        for name, predicted in compare(stock, train, test).items():
            predictions.setdefault(name, []).extend(predicted)
    table(f"Livelihood subcategories, {folds}-fold cross-validation over {len(rows)} golden cases "
          f"(each fold trains on about {len(rows) * (folds - 1) // folds})", gold_all, predictions)


def resident_mb(lexicon: Path | None) -> float:
    """VmRSS of a new process that has built the classifier as a worker does (no scikit-learn)."""
    code = (
        "import sys; sys.path.insert(0, %r)\n"
        "from classifier import Classifier, LearnedModel\n"
        "from classifier.rules import load_classifier_rules\n"
        "rules = load_classifier_rules(%r)\n"
        "model = LearnedModel.load(%r, rules) if %r else None\n"
        "Classifier(rules, model=model).classify('路灯坏了')\n"
        "print([l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1])\n"
    ) % (str(ROOT), str(ROOT / "routing_rules.yaml"), str(lexicon), bool(lexicon))
    return int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout) / 1024


def scale(stock: Classifier, rows, n: int) -> None:
    import jieba

    rng = random.Random(0)
    by_label: dict[str, list[str]] = {}
    for text, label in rows:
        by_label.setdefault(label, []).append(text)
    labels = sorted(by_label)
    with jieba.get_dict_file() as handle:
        words = [line.split()[0] for line in handle.read().decode("utf-8").splitlines() if int(line.split()[1]) >= 20]
    cases = []
    for i in range(n):
        label = labels[i % len(labels)]
        noise = "".join(rng.choice(words) for _ in range(60))
        cases.append(("。".join(rng.sample(by_label[label], min(3, len(by_label[label])))) + noise, label))
    started = time.perf_counter()
    model = learn(stock, cases)
    took = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lexicon.json"
        model.save(path)
        size = path.stat().st_size
        loaded = LearnedModel.load(path, stock.rules)
        rss_stock, rss_model = resident_mb(None), resident_mb(path)
    learned = Classifier(stock.rules, model=loaded)
    texts = [t for t, _ in cases[:2000]]
    started = time.perf_counter()
    for text in texts:
        learned.classify(text)
    per_message = (time.perf_counter() - started) / len(texts)
    started = time.perf_counter()
    for text in texts:
        stock.classify(text)
    stock_per_message = (time.perf_counter() - started) / len(texts)
    print(f"\nlearn on {n} cases ({sum(len(t) for t, _ in cases) // n} characters each on average): {took:.1f} s "
          f"({len(model.info['cross_validation'])} candidates x {model.info['folds']} folds, then the refit)")
    print(f"lexicon: {model.info['features']} features, {size / 1e6:.1f} MB on disk; a fresh process with the "
          f"classifier loaded: {rss_stock:.0f} MB resident, {rss_model:.0f} MB with this lexicon")
    print(f"classify with the model: {per_message * 1e6:.0f} µs a message ({1 / per_message:,.0f}/s); "
          f"stock rules alone: {stock_per_message * 1e6:.0f} µs ({1 / stock_per_message:,.0f}/s)")


def main() -> None:
    rules = load_classifier_rules(ROOT / "routing_rules.yaml")
    stock = Classifier(rules)
    args = sys.argv[1:]
    golden = livelihood([row for name in GOLDEN for row in read_labelled(ROOT / "tests/data" / name)], rules)
    if args[:1] == ["--scale"]:
        scale(stock, golden, int(args[1]) if len(args) > 1 else 5000)
    elif len(args) == 2:
        train, test = livelihood(read_labelled(args[0]), rules), livelihood(read_labelled(args[1]), rules)
        table(f"Livelihood subcategories: trained on {len(train)} cases ({Path(args[0]).name}), tested on "
              f"{len(test)} held-out cases ({Path(args[1]).name})", [l for _, l in test], compare(stock, train, test))
    else:
        cross_validation(stock, golden)


if __name__ == "__main__":
    main()
