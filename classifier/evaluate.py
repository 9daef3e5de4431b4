"""Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix (pure)."""
from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path


def read_labelled(path: str | Path) -> list[tuple[str, str]]:
    """CSV with columns text,label (UTF-8, BOM allowed). Blank rows are skipped."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or not {"text", "label"} <= {f.strip() for f in reader.fieldnames}:
                raise ValueError(f"{path}: the header must have the columns text,label")
            reader.fieldnames = [f.strip() for f in reader.fieldnames]
            return [((row["text"] or "").strip(), (row["label"] or "").strip())
                    for row in reader if (row.get("text") or "").strip()]
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: 文件不是 UTF-8 编码（在 Excel 中另存为“CSV UTF-8”）: {exc.reason} at byte {exc.start}") from exc


def metrics(gold: list[str], predicted: list[str]) -> dict:
    labels = sorted(set(gold) | set(predicted))
    confusion: dict[str, Counter] = defaultdict(Counter)
    for g, p in zip(gold, predicted):
        confusion[g][p] += 1
    per_class = {}
    for label in sorted(set(gold)):
        tp = confusion[label][label]
        fp = sum(confusion[g][label] for g in labels if g != label)
        fn = sum(n for p, n in confusion[label].items() if p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
                            "support": tp + fn}
    n = len(gold)
    return {
        "n": n,
        "accuracy": round(sum(g == p for g, p in zip(gold, predicted)) / n, 4) if n else 0.0,
        "macro_f1": round(sum(c["f1"] for c in per_class.values()) / len(per_class), 4) if per_class else 0.0,
        "per_class": per_class,
        "confusion": {g: dict(confusion[g]) for g in sorted(confusion)},
    }


def predict_label(result, level: str) -> str:
    """The prediction at the level a labelled set uses."""
    if level == "subcategory":
        return result.subcategory or result.category
    return result.category
