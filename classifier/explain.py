"""Plain Chinese lines that say why a message was classified as it was (pure)."""
from __future__ import annotations

from .types import Classification

STAGE_WORDS = {"risk": "风险信号", "intent": "求助意图（法律援助）", "addressee": "诉求对象（信访）",
               "topic": "事项关键词", "model": "模型判断", "keywords": "关键词", "none": "无明确依据"}


def explain_lines(result: Classification, labels: dict[str, str]) -> list[str]:
    lines = []
    decision = result.decision or {}
    if decision:
        family = f" · {decision['label']}" if decision.get("label") else ""
        words = f"（{'、'.join(decision['words'])}）" if decision.get("words") else ""
        lines.append(f"判定依据: {STAGE_WORDS.get(decision['stage'], decision['stage'])}{family}{words}")
    if result.topic and result.category not in ("livelihood",):
        lines.append(f"涉及事项: {labels.get(result.topic, result.topic)} ({result.department or '无'})")
    if result.signals:
        lines.append("信号: " + "；".join(f"{labels.get(s.category, s.category)}·{s.label}({'+'.join(s.words)})"
                                         for s in result.signals))
    for k, reading in enumerate(result.readings, start=1):
        name = labels.get(reading["category"], reading["category"])
        if reading.get("subcategory"):
            name += "·" + labels.get(reading["subcategory"], reading["subcategory"])
        reasons = "、".join(reading["signals"] + reading["words"]) or "无明确依据"
        lines.append(f"可能{k}: {name} ({reading['score']:.2f})，依据 {reasons}")
    return lines
