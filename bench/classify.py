"""Classification throughput (messages/s on one core) and memory, side by side with plain
jieba.lcut on the same texts in the same run. Prints a table.

Usage: python bench/classify.py [--rounds 20]
"""
from __future__ import annotations

import argparse
import csv
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def texts() -> list[str]:
    out = []
    for name in ("golden_tune.csv", "golden_holdout.csv"):
        with open(ROOT / "tests" / "data" / name, encoding="utf-8") as handle:
            out += [row["text"] for row in csv.DictReader(handle)]
    return out


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rate(fn, items: list[str], rounds: int) -> tuple[float, float]:
    start = time.process_time()
    for _ in range(rounds):
        for text in items:
            fn(text)
    spent = time.process_time() - start
    n = rounds * len(items)
    return n / spent, spent / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    before = rss_mb()
    import jieba

    from classifier import Classifier

    items = texts()
    jieba.initialize()
    jieba_rss = rss_mb()
    clf = Classifier.from_file(ROOT / "routing_rules.yaml")
    loaded_rss = rss_mb()
    for text in items:  # warm both
        jieba.lcut(text)
        clf.classify(text)
    lcut_rate, lcut_us = rate(jieba.lcut, items, args.rounds)
    clf_rate, clf_us = rate(clf.classify, items, args.rounds)
    average = sum(len(t) for t in items) / len(items)
    print(f"\nClassification on one core: {len(items)} golden-set texts (average {average:.0f} characters) x {args.rounds}")
    print("| what | messages/s | µs per message | relative |")
    print("|---|---|---|---|")
    print(f"| jieba.lcut alone | {lcut_rate:,.0f} | {lcut_us:.0f} | 1.00x |")
    print(f"| Gridline classify (normalise + segment + score + explain) | {clf_rate:,.0f} | {clf_us:.0f} | {clf_us / lcut_us:.2f}x |")
    print(f"\nPeak resident memory: {before:.0f} MB at start, {jieba_rss:.0f} MB with jieba's dictionary, "
          f"{loaded_rss:.0f} MB with the classifier loaded")


if __name__ == "__main__":
    main()
