"""The non-classifier half of routing_rules.yaml: routing, deadlines, conversation, templates.

Validated into frozen dataclasses like the classifier's rules; `check_rules_file` runs both
validators and returns every problem with its place in the file.
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from classifier.places import Checker, Problem, RulesError, load_yaml
from classifier.rules import ClassifierRules, parse_classifier_rules

REQUIRED_TEMPLATES = {
    "receipt": {"number", "team", "due"},
    "receipt_triage": {"number"},
    "receipt_located": {"number", "area", "team", "due"},
    "location_unknown": {"number", "team"},
    "team_notice": {"number", "excerpt"},
    "informed_notice": {"number", "excerpt"},
    "case_addition": {"number", "excerpt"},
    "addition_receipt": {"number"},
    "status_reply": {"lines"},
    "status_line": {"number", "status"},
    "status_none": set(),
    "opt_out": set(),
    "opt_in": set(),
    "empty_message": set(),
    "oversized_message": {"limit"},
}
URGENCIES = ("urgent", "normal", "low")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d)\s*$")


def parse_duration(text) -> timedelta:
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"duration {text!r}: write a number and a unit, e.g. 30m, 4h, 3d")
    value, unit = float(match.group(1)), match.group(2)
    return {"m": timedelta(minutes=value), "min": timedelta(minutes=value),
            "h": timedelta(hours=value), "d": timedelta(days=value)}[unit]


@dataclass(frozen=True)
class Route:
    handler: str
    inform: tuple[str, ...] = ()
    inform_if_urgent: tuple[str, ...] = ()


@dataclass(frozen=True)
class Deadline:
    acknowledge: timedelta
    resolve: timedelta


@dataclass(frozen=True)
class Conversation:
    join_window: timedelta
    max_body_chars: int
    excerpt_chars: int
    status_words: frozenset[str]
    opt_out_words: frozenset[str]
    opt_in_words: frozenset[str]


@dataclass(frozen=True)
class Policy:
    signature: str
    routes: dict[str, Route]
    triage_kind: str
    fallbacks: dict[str, tuple[str, ...]]
    deadlines: dict[str, dict[str, Deadline]]  # category or "default" -> urgency -> Deadline
    conversation: Conversation
    templates: dict[str, str]
    status_labels: dict[str, str]
    urgency_labels: dict[str, str]
    unclassified_label: str

    def route(self, category: str) -> Route:
        return self.routes.get(category) or Route(self.triage_kind)

    def deadline(self, category: str, urgency: str) -> Deadline:
        for key in (category, "default"):
            by_urgency = self.deadlines.get(key, {})
            if urgency in by_urgency:
                return by_urgency[urgency]
        return self.deadlines["default"]["normal"]


@dataclass(frozen=True)
class Rules:
    """Everything in routing_rules.yaml."""

    path: Path
    classifier: ClassifierRules
    policy: Policy


def _words(check: Checker, data, path) -> frozenset[str]:
    return frozenset(w.strip().upper() for w in check.text_list(data, path))


def parse_policy(data: dict, check: Checker, categories: set[str]) -> Policy:
    routes: dict[str, Route] = {}
    routing = check.mapping(data.get("routing"), ("routing",))
    triage_kind = routing.get("triage")
    if not isinstance(triage_kind, str) or not triage_kind:
        check.error(("routing", "triage"), "name the team kind that triages (e.g. district_center)")
        triage_kind = "district_center"
    for key in sorted(categories | {"unclassified"}):
        if key not in routing:
            check.error(("routing",), f"no route for category {key!r}")
    fallbacks: dict[str, tuple[str, ...]] = {}
    for kind, chain in check.mapping(routing.get("fallback"), ("routing", "fallback"), required=False).items():
        fallbacks[kind] = tuple(check.text_list(chain, ("routing", "fallback", kind)))
    for key, body in routing.items():
        if key in ("triage", "fallback"):
            continue
        path = ("routing", key)
        if key not in categories and key != "unclassified":
            check.error(path, f"unknown category {key!r}")
        body = check.mapping(body, path)
        handler = check.text(body.get("handler"), path + ("handler",)) or triage_kind
        routes[key] = Route(
            handler=handler,
            inform=tuple(check.text_list(body.get("inform"), path + ("inform",))),
            inform_if_urgent=tuple(check.text_list(body.get("inform_if_urgent"), path + ("inform_if_urgent",))),
        )

    deadlines: dict[str, dict[str, Deadline]] = {}
    dl = check.mapping(data.get("deadlines"), ("deadlines",))
    if "default" not in dl or "normal" not in (dl.get("default") or {}):
        check.error(("deadlines",), "a default.normal deadline is required")
    for key, by_urgency in dl.items():
        if key != "default" and key not in categories and key != "unclassified":
            check.error(("deadlines", key), f"unknown category {key!r}")
        for urgency, body in check.mapping(by_urgency, ("deadlines", key)).items():
            path = ("deadlines", key, urgency)
            if urgency not in URGENCIES:
                check.error(path, f"urgency must be one of {', '.join(URGENCIES)}")
                continue
            body = check.mapping(body, path)
            try:
                ack, resolve = parse_duration(body.get("acknowledge")), parse_duration(body.get("resolve"))
            except ValueError as exc:
                check.error(path, str(exc))
                continue
            if ack > resolve:
                check.error(path, "acknowledge must not be later than resolve")
            deadlines.setdefault(key, {})[urgency] = Deadline(ack, resolve)
    deadlines.setdefault("default", {}).setdefault("normal", Deadline(timedelta(hours=4), timedelta(days=3)))

    conv = check.mapping(data.get("conversation"), ("conversation",))

    def whole(name, default, low, high):
        value = conv.get(name, default)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            check.error(("conversation", name), f"must be a whole number from {low} to {high}")
            return default
        return value

    conversation = Conversation(
        join_window=timedelta(minutes=whole("join_window_minutes", 10, 0, 1440)),
        max_body_chars=whole("max_body_chars", 1600, 70, 10000),
        excerpt_chars=whole("excerpt_chars", 40, 10, 500),
        status_words=_words(check, conv.get("status_words"), ("conversation", "status_words")),
        opt_out_words=_words(check, conv.get("opt_out_words"), ("conversation", "opt_out_words")),
        opt_in_words=_words(check, conv.get("opt_in_words"), ("conversation", "opt_in_words")),
    )

    templates: dict[str, str] = {}
    tpl = check.mapping(data.get("templates"), ("templates",))
    formatter = string.Formatter()
    for key, needed in REQUIRED_TEMPLATES.items():
        if key not in tpl:
            check.error(("templates",), f"template {key!r} is missing")
    for key, text in tpl.items():
        path = ("templates", key)
        if check.text(text, path) is None:
            continue
        try:
            fields = {name for _, name, _, _ in formatter.parse(text) if name}
        except ValueError as exc:
            check.error(path, f"bad placeholder: {exc}")
            continue
        missing = REQUIRED_TEMPLATES.get(key, set()) - fields
        if missing:
            check.error(path, f"must use {', '.join('{' + m + '}' for m in sorted(missing))}")
        templates[key] = text

    labels = check.mapping(data.get("labels"), ("labels",))
    signature = data.get("signature", "")
    if not isinstance(signature, str):
        check.error(("signature",), "expected text such as 【网格通】")
        signature = ""
    return Policy(
        signature=signature,
        routes=routes,
        triage_kind=triage_kind,
        fallbacks=fallbacks,
        deadlines=deadlines,
        conversation=conversation,
        templates=templates,
        status_labels=dict(check.mapping(labels.get("status"), ("labels", "status"))),
        urgency_labels=dict(check.mapping(labels.get("urgency"), ("labels", "urgency"))),
        unclassified_label=str(labels.get("unclassified") or "待分类"),
    )


def parse_rules_file(path: str | Path) -> tuple[Rules | None, list[Problem], str]:
    path = Path(path)
    try:
        data, places, filename = load_yaml(path)
    except RulesError as exc:
        return None, exc.problems, exc.filename
    check = Checker(places)
    classifier_rules = parse_classifier_rules(data, check)
    policy = parse_policy(data, check, set(classifier_rules.categories))
    if check.problems:
        return None, check.problems, filename
    return Rules(path=path, classifier=classifier_rules, policy=policy), [], filename


def load_rules(path: str | Path) -> Rules:
    rules, problems, filename = parse_rules_file(path)
    if problems:
        raise RulesError(filename, problems)
    return rules
