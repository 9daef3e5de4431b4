"""The classification half of routing_rules.yaml, validated into frozen dataclasses."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .places import Checker, RulesError, load_yaml
from .signals import SignalRules, parse_signals

STOCK_CATEGORIES = ("stability", "legal_aid", "petition", "livelihood")
STOCK_SUBCATEGORIES = (
    "urban_construction", "environment", "transport", "education_culture",
    "labor_social_security", "commerce_tourism", "health", "civil_affairs",
)


@dataclass(frozen=True)
class Subcategory:
    key: str
    label: str
    department: str
    keywords: dict[str, float]


@dataclass(frozen=True)
class Category:
    key: str
    label: str
    keywords: dict[str, float]
    subcategories: dict[str, Subcategory]
    exclude: tuple[str, ...] = ()

    def exclude_none(self, tokens) -> bool:
        """True when none of the category's exclusion words is among the tokens."""
        return set(self.exclude).isdisjoint(tokens)


@dataclass(frozen=True)
class ClassifierRules:
    categories: dict[str, Category]
    negations: tuple[str, ...]        # deny what follows, whatever it is: 不是打架
    negation_window: int
    absence_words: tuple[str, ...]    # deny an event, not a thing: 没有打架 is no fight, 没有路灯 a complaint
    absence_cancels: tuple[str, ...]  # the categories whose keywords are events (stock: stability)
    urgent_words: tuple[str, ...]
    low_words: tuple[str, ...]
    min_score: float
    runner_up_ratio: float
    domain_terms: tuple[str, ...]
    signals: SignalRules = SignalRules({}, {}, ())

    def labels(self) -> dict[str, str]:
        out = {}
        for cat in self.categories.values():
            out[cat.key] = cat.label
            for sub in cat.subcategories.values():
                out[sub.key] = sub.label
        return out

    def all_keywords(self) -> set[str]:
        words = set(self.domain_terms) | set(self.urgent_words) | set(self.low_words) | set(self.negations) | set(self.absence_words)
        for cat in self.categories.values():
            words |= set(cat.keywords) | set(cat.exclude)
            for sub in cat.subcategories.values():
                words |= set(sub.keywords)
        return words


def _keywords(check: Checker, data, path: tuple) -> dict[str, float]:
    data = check.mapping(data, path, required=False)
    out: dict[str, float] = {}
    for word, weight in data.items():
        word_s = str(word).strip()
        if not word_s:
            check.error(path, "empty keyword")
            continue
        value = check.number(weight, path + (word,))
        if value is None:
            continue
        if len(word_s) == 1 and value > 1:
            check.error(path + (word,), "a single-character keyword over-matches; weight it at most 1 or use a phrase")
        out[word_s.lower()] = value
    return out


def parse_classifier_rules(data: dict, check: Checker) -> ClassifierRules:
    cats_data = check.mapping(data.get("categories"), ("categories",))
    categories: dict[str, Category] = {}
    for key in STOCK_CATEGORIES:
        if key not in cats_data:
            check.error(("categories",), f"stock category {key!r} is missing")
    for key, body in cats_data.items():
        path = ("categories", key)
        body = check.mapping(body, path)
        label = check.text(body.get("label"), path + ("label",)) or key
        subs: dict[str, Subcategory] = {}
        subs_data = check.mapping(body.get("subcategories"), path + ("subcategories",), required=False)
        for sub_key, sub_body in subs_data.items():
            sub_path = path + ("subcategories", sub_key)
            sub_body = check.mapping(sub_body, sub_path)
            subs[sub_key] = Subcategory(
                key=sub_key,
                label=check.text(sub_body.get("label"), sub_path + ("label",)) or sub_key,
                department=check.text(sub_body.get("department"), sub_path + ("department",)) or "",
                keywords=_keywords(check, sub_body.get("keywords"), sub_path + ("keywords",)),
            )
            if not subs[sub_key].keywords:
                check.error(sub_path + ("keywords",), "a subcategory needs at least one keyword")
        if key == "livelihood":
            for sub_key in STOCK_SUBCATEGORIES:
                if sub_key not in subs:
                    check.error(path + ("subcategories",), f"stock subcategory {sub_key!r} is missing")
        categories[key] = Category(
            key=key,
            label=label,
            keywords=_keywords(check, body.get("keywords"), path + ("keywords",)),
            subcategories=subs,
            exclude=tuple(check.text_list(body.get("exclude"), path + ("exclude",))),
        )
        if not categories[key].keywords and not subs:
            check.error(path + ("keywords",), "a category needs keywords or subcategories")

    cls = check.mapping(data.get("classification"), ("classification",))
    thresholds = check.mapping(cls.get("thresholds"), ("classification", "thresholds"))
    min_score = check.number(thresholds.get("min_score"), ("classification", "thresholds", "min_score"), 0) or 1.0
    ratio = check.number(thresholds.get("runner_up_ratio", 0.6),
                         ("classification", "thresholds", "runner_up_ratio"), 0) or 0.6
    if ratio > 1:
        check.error(("classification", "thresholds", "runner_up_ratio"), "must be between 0 and 1")
    window = cls.get("negation_window", 2)
    if not isinstance(window, int) or isinstance(window, bool) or not 1 <= window <= 5:
        check.error(("classification", "negation_window"), "must be a whole number from 1 to 5")
        window = 2
    absence_cancels = tuple(check.text_list(cls.get("absence_cancels", ["stability"]), ("classification", "absence_cancels")))
    for key in absence_cancels:
        if key not in categories:
            check.error(("classification", "absence_cancels"), f"unknown category {key!r}")
    urgency = check.mapping(data.get("urgency"), ("urgency",))
    return ClassifierRules(
        categories=categories,
        negations=tuple(check.text_list(cls.get("negations"), ("classification", "negations"))),
        negation_window=window,
        absence_words=tuple(check.text_list(cls.get("absence_words", []), ("classification", "absence_words"))),
        absence_cancels=absence_cancels,
        urgent_words=tuple(w.lower() for w in check.text_list(urgency.get("urgent"), ("urgency", "urgent"))),
        low_words=tuple(w.lower() for w in check.text_list(urgency.get("low"), ("urgency", "low"))),
        min_score=min_score,
        runner_up_ratio=ratio,
        domain_terms=tuple(check.text_list(cls.get("domain_terms"), ("classification", "domain_terms"))),
        signals=parse_signals(cls.get("signals"), check, categories),
    )


def load_classifier_rules(path: str | Path) -> ClassifierRules:
    data, places, filename = load_yaml(path)
    check = Checker(places)
    rules = parse_classifier_rules(data, check)
    if check.problems:
        raise RulesError(filename, check.problems)
    return rules
