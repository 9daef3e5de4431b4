"""Classification throughput (messages/s on one core) and memory, side by side with plain
jieba.lcut on the same texts in the same run. Prints a table.

Usage: python bench/classify.py [--rounds 40]
"""
from __future__ import annotations

import argparse
import csv
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


SETS = {
    "SMS-length (golden sets)": ("golden_tune.csv", "golden_holdout.csv"),
    "long 12345-style reports": ("golden_longform_tune.csv", "golden_longform_holdout.csv"),
}


def texts(names) -> list[str]:
    out = []
    for name in names:
        with open(ROOT / "tests" / "data" / name, encoding="utf-8") as handle:
            out += [row["text"] for row in csv.DictReader(handle)]
    return out


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def paired(first, second, items: list[str], rounds: int) -> tuple[float, float, float]:
    """Alternate one pass of each over the texts, `rounds` times (CPU time). Returns the median
    µs per message of each and the median of the per-round ratios: a noisy neighbour slows both
    passes of a pair alike, so the ratio holds still when the absolute figures do not."""
    a_times, b_times, ratios = [], [], []
    for _ in range(rounds):
        start = time.process_time()
        for text in items:
            first(text)
        middle = time.process_time()
        for text in items:
            second(text)
        end = time.process_time()
        a_times.append((middle - start) / len(items) * 1e6)
        b_times.append((end - middle) / len(items) * 1e6)
        ratios.append((end - middle) / (middle - start))
    return statistics.median(a_times), statistics.median(b_times), statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    before = rss_mb()
    import jieba

    from classifier import Classifier

    jieba.initialize()
    jieba_rss = rss_mb()
    clf = Classifier.from_file(ROOT / "routing_rules.yaml")
    loaded_rss = rss_mb()
    for title, names in SETS.items():
        items = texts(names)
        for text in items:  # warm both
            jieba.lcut(text)
            clf.classify(text)
        lcut_us, clf_us, ratio = paired(jieba.lcut, clf.classify, items, args.rounds)
        average = sum(len(t) for t in items) / len(items)
        print(f"\nOne core, {title}: {len(items)} texts (average {average:.0f} characters), "
              f"medians of {args.rounds} alternating rounds")
        print("| what | messages/s | µs per message | relative |")
        print("|---|---|---|---|")
        print(f"| jieba.lcut alone | {1e6 / lcut_us:,.0f} | {lcut_us:.0f} | 1.00x |")
        print(f"| Gridline classify (normalise + segment + score + explain) | {1e6 / clf_us:,.0f} | {clf_us:.0f} | {ratio:.2f}x |")
    print(f"\nPeak resident memory: {before:.0f} MB at start, {jieba_rss:.0f} MB with jieba's dictionary, "
          f"{loaded_rss:.0f} MB with the classifier loaded")


if __name__ == "__main__":
    main()
