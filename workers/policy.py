"""The non-classifier half of routing_rules.yaml: routing, deadlines, conversation, templates.

Validated into frozen dataclasses like the classifier's rules; `check_rules_file` runs both
validators and returns every problem with its place in the file.
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from datetime import date, time, timedelta
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
    "ack_notice": {"number", "team"},
    "progress_notice": {"number", "note"},
    "resolved_notice": {"number", "result"},
    "rating_thanks": {"number"},
    "reopened_notice": {"number"},
    "reopened_team": {"number"},
    "transfer_notice": {"number", "team"},
    "escalated_notice": {"number", "team"},
    "returned_team": {"number", "reason"},
    "escalation_team": {"number", "reason"},
    "escalation_original": {"number", "team"},
    "reminder": {"number", "deadline"},
    "repeat_receipt": {"number", "count"},
    "repeat_team": {"number", "count"},
    "cmd_done": {"message"},
    "cmd_error": {"error", "usage"},
    "cmd_refused": {"number", "team"},
    "cmd_help": set(),
    "receipt_urgent": {"number", "team", "emergency"},
    "gate_greeting": {"hint"},
    "gate_thanks": {"hint"},
    "gate_emoji": {"hint"},
    "gate_digits": {"hint"},
    "gate_noise": {"hint"},
    "gate_howto": set(),
    "gate_pending": {"number", "status"},
    "unknown_case": {"number", "numbers"},
    "unknown_case_none": {"number"},
}
URGENCIES = ("urgent", "normal", "low")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d|wh|wd)\s*$")


@dataclass(frozen=True)
class Span:
    """A deadline length: wall-clock (m, h, d) or working time (wh working hours, wd working days)."""

    amount: float
    unit: str

    @property
    def working(self) -> bool:
        return self.unit in ("wh", "wd")

    def approx(self) -> timedelta:
        """For ordering checks only: a working day counts as a day, a working hour as an hour."""
        return {"m": timedelta(minutes=self.amount), "min": timedelta(minutes=self.amount),
                "h": timedelta(hours=self.amount), "wh": timedelta(hours=self.amount),
                "d": timedelta(days=self.amount), "wd": timedelta(days=self.amount)}[self.unit]

    def __str__(self) -> str:
        return f"{self.amount:g}{self.unit}"


def parse_span(text) -> Span:
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"duration {text!r}: write a number and a unit: 30m, 4h, 3d, or working time 4wh, 5wd")
    unit = match.group(2)
    amount = float(match.group(1))
    if unit == "wd" and amount != int(amount):
        raise ValueError(f"duration {text!r}: working days must be whole")
    return Span(amount, unit)


def parse_duration(text) -> timedelta:
    span = parse_span(text)
    if span.working:
        raise ValueError(f"duration {text!r}: use wall-clock units here (m, h, d)")
    return span.approx()


@dataclass(frozen=True)
class Route:
    handler: str
    inform: tuple[str, ...] = ()
    inform_if_urgent: tuple[str, ...] = ()


@dataclass(frozen=True)
class Deadline:
    acknowledge: Span
    resolve: Span


@dataclass(frozen=True)
class WorkingTime:
    start: time
    end: time
    holidays: frozenset[date]
    workdays: frozenset[date]


@dataclass(frozen=True)
class Loop:
    """The closed loop after dispatch: reminders, surveys, quiet hours, caps, repeats."""

    reminder_before: timedelta
    survey_timeout: timedelta
    quiet_start: time
    quiet_end: time
    max_status_per_day: int
    repeat_window: timedelta


@dataclass(frozen=True)
class Conversation:
    join_window: timedelta
    max_body_chars: int
    excerpt_chars: int
    status_words: frozenset[str]
    opt_out_words: frozenset[str]
    opt_in_words: frozenset[str]
    hotline: str = "12345"      # named in replies that send people to the phone
    emergency: str = "110"      # named in urgent receipts: danger now is a call, not an SMS


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
    working_time: WorkingTime
    loop: Loop
    commands: dict[str, frozenset[str]]
    satisfaction: dict[str, str]  # reply word -> rating
    # provider -> template key -> approved template id and parameter names (workers.provider_templates)
    provider_templates: dict = field(default_factory=dict)

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
                ack, resolve = parse_span(body.get("acknowledge")), parse_span(body.get("resolve"))
            except ValueError as exc:
                check.error(path, str(exc))
                continue
            if ack.approx() > resolve.approx():
                check.error(path, "acknowledge must not be later than resolve")
            deadlines.setdefault(key, {})[urgency] = Deadline(ack, resolve)
    deadlines.setdefault("default", {}).setdefault("normal", Deadline(Span(4, "wh"), Span(5, "wd")))

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
        hotline=_phone_text(check, conv, "hotline", "12345"),
        emergency=_phone_text(check, conv, "emergency", "110"),
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

    working_time = _working_time(check, data.get("working_time"))
    loop = _loop(check, data.get("loop"))
    commands: dict[str, frozenset[str]] = {}
    for action, words in check.mapping(data.get("commands"), ("commands",)).items():
        if action not in COMMAND_ACTIONS and action not in FIELD_COMMANDS:
            known = ", ".join(COMMAND_ACTIONS + tuple(FIELD_COMMANDS))
            check.error(("commands", action), f"unknown command action; known: {known}")
            continue
        commands[action] = _words(check, words, ("commands", action))
    for action in COMMAND_ACTIONS:
        if not commands.get(action):
            check.error(("commands",), f"no words for command {action!r}")
    for action, words in FIELD_COMMANDS.items():
        commands.setdefault(action, words)
    satisfaction: dict[str, str] = {}
    for rating, words in check.mapping(data.get("satisfaction"), ("satisfaction",)).items():
        if rating not in RATINGS:
            check.error(("satisfaction", rating), f"rating must be one of {', '.join(RATINGS)}")
            continue
        for word in _words(check, words, ("satisfaction", rating)):
            satisfaction[word] = rating

    labels = check.mapping(data.get("labels"), ("labels",))
    signature = data.get("signature", "")
    if not isinstance(signature, str):
        check.error(("signature",), "expected text such as 【网格通】")
        signature = ""
    from .provider_templates import parse_provider_templates

    provider_templates = parse_provider_templates(data.get("provider_templates"), check, templates)
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
        working_time=working_time,
        loop=loop,
        commands=commands,
        satisfaction=satisfaction,
        provider_templates=provider_templates,
    )


def _phone_text(check: Checker, conv: dict, name: str, default: str) -> str:
    value = str(conv.get(name, default)).strip()
    if not re.fullmatch(r"[0-9][0-9-]{1,19}", value):
        check.error(("conversation", name), f"expected a phone number such as {default}, got {value!r}")
        return default
    return value


COMMAND_ACTIONS = ("acknowledge", "progress", "resolve", "return", "transfer", "escalate", "list", "view", "help")
# Members' field work (workers.fieldwork); rules files written before it get these words.
FIELD_COMMANDS = {"patrol": frozenset({"巡查", "XC"}), "on_the_spot": frozenset({"即办", "JB"}),
                  "visit": frozenset({"走访", "ZF"}), "log": frozenset({"日志", "RZ"})}
RATINGS = ("satisfied", "basically_satisfied", "dissatisfied")


def _clock(check: Checker, value, path) -> time | None:
    try:
        hours, minutes = str(value).split(":")
        return time(int(hours), int(minutes))
    except (ValueError, TypeError):
        check.error(path, f"expected a time such as 08:30, got {value!r}")
        return None


def _dates(check: Checker, values, path) -> frozenset[date]:
    out = set()
    for index, value in enumerate(values or []):
        if isinstance(value, date):
            out.add(value)
            continue
        try:
            out.add(date.fromisoformat(str(value)))
        except ValueError:
            check.error(path + (index,), f"expected a date such as 2027-01-01, got {value!r}")
    return frozenset(out)


def _working_time(check: Checker, data) -> WorkingTime:
    data = check.mapping(data, ("working_time",))
    hours = data.get("hours") or ["08:30", "17:30"]
    if not isinstance(hours, list) or len(hours) != 2:
        check.error(("working_time", "hours"), "expected [start, end], e.g. [\"08:30\", \"17:30\"]")
        hours = ["08:30", "17:30"]
    start = _clock(check, hours[0], ("working_time", "hours")) or time(8, 30)
    end = _clock(check, hours[1], ("working_time", "hours")) or time(17, 30)
    if start >= end:
        check.error(("working_time", "hours"), "the working day must start before it ends")
    return WorkingTime(start, end, _dates(check, data.get("holidays"), ("working_time", "holidays")),
                       _dates(check, data.get("workdays"), ("working_time", "workdays")))


def _loop(check: Checker, data) -> Loop:
    data = check.mapping(data, ("loop",))

    def duration(name, default):
        try:
            return parse_duration(data.get(name, default))
        except ValueError as exc:
            check.error(("loop", name), str(exc))
            return parse_duration(default)

    quiet = data.get("quiet_hours") or ["22:00", "07:00"]
    if not isinstance(quiet, list) or len(quiet) != 2:
        check.error(("loop", "quiet_hours"), "expected [start, end], e.g. [\"22:00\", \"07:00\"]")
        quiet = ["22:00", "07:00"]
    cap = data.get("max_status_per_day", 3)
    if not isinstance(cap, int) or isinstance(cap, bool) or not 1 <= cap <= 50:
        check.error(("loop", "max_status_per_day"), "must be a whole number from 1 to 50")
        cap = 3
    return Loop(
        reminder_before=duration("reminder_before", "30m"),
        survey_timeout=duration("survey_timeout", "3d"),
        quiet_start=_clock(check, quiet[0], ("loop", "quiet_hours")) or time(22),
        quiet_end=_clock(check, quiet[1], ("loop", "quiet_hours")) or time(7),
        max_status_per_day=cap,
        repeat_window=duration("repeat_window", "7d"),
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
