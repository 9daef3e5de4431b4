"""Risk, intent and addressee signals: families of word-group patterns found in a message (pure).

A group is a kind of word ("a crowd", "a collective act", "an office"), listed in
routing_rules.yaml under classification.signals.groups. A family (collective action, a legal
question, an office's inaction ...) fires when every group of one of its patterns is present
within the family's window of characters: a crowd plus a collective act, a question form plus a
legal object, an office plus a failure to act. Words are found in the normalised text itself, not
in jieba's tokens, so no segmentation hides them; a word right after a denial (不是打架, 没有打架)
does not count.

Families are decided in the order of categories.md: risk (stability), intent (legal aid),
addressee and demand (petition).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

# The order in which signal categories decide, and what each stage is called in an explanation.
ORDER = ("stability", "legal_aid", "petition")
STAGES = {"stability": "risk", "legal_aid": "intent", "petition": "addressee"}
STAGE_LABELS = {"risk": "风险信号", "intent": "求助意图", "addressee": "诉求对象", "topic": "事项关键词",
                "model": "模型", "none": "无"}
REGEX = "re:"
DENIAL_REACH = 3           # characters before a signal word searched for a denial


@dataclass(frozen=True)
class Family:
    key: str
    category: str
    label: str
    patterns: tuple[tuple[str, ...], ...]
    window: int


@dataclass(frozen=True)
class SignalRules:
    groups: dict[str, tuple[str, ...]]
    families: dict[str, Family]
    denials: tuple[str, ...] = ()

    def words(self) -> set[str]:
        return {w for words in self.groups.values() for w in words if not w.startswith(REGEX)}


class Signal(NamedTuple):
    """A family that fired: which pattern of groups, and the words that matched them."""
    family: str
    category: str
    label: str
    groups: tuple[str, ...]
    words: tuple[str, ...]

    @property
    def stage(self) -> str:
        return STAGES.get(self.category, "topic")

    def to_dict(self) -> dict:
        return {"family": self.family, "category": self.category, "label": self.label, "stage": self.stage,
                "groups": list(self.groups), "words": list(self.words)}


class SignalFinder:
    def __init__(self, rules: SignalRules):
        self.rules = rules
        pairs: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        singles: dict[str, list[str]] = {}
        by_word: dict[str, list[str]] = {}
        self._regexes: list[tuple[re.Pattern, str]] = []
        for group, words in rules.groups.items():
            for word in words:
                if word.startswith(REGEX):
                    self._regexes.append((re.compile(word[len(REGEX):]), group))
                else:
                    by_word.setdefault(word, []).append(group)
        for word, groups in by_word.items():
            if len(word) == 1:
                singles[word] = groups
            else:
                pairs.setdefault(word[:2], []).append((word, tuple(groups)))
        for bucket in pairs.values():
            bucket.sort(key=lambda wg: len(wg[0]), reverse=True)
        self._pairs, self._singles = pairs, singles
        self._denials = tuple(rules.denials)
        # group -> the (family, pattern) pairs that need it, so only plausible patterns are checked
        self._patterns_of: dict[str, list[tuple[Family, tuple[str, ...]]]] = {}
        for family in rules.families.values():
            for pattern in family.patterns:
                self._patterns_of.setdefault(pattern[0], []).append((family, pattern))

    def _denied(self, text: str, start: int) -> bool:
        before = text[max(0, start - DENIAL_REACH):start]
        return any(d in before for d in self._denials) if before else False

    def hits(self, text: str) -> dict[str, list[tuple[int, str]]]:
        """{group: [(position, word), ...]} of the undenied signal words in a normalised text."""
        found: dict[str, list[tuple[int, str]]] = {}
        pairs, singles = self._pairs, self._singles
        # Longest word first at each position, then on past it: 班主任 (neutral) hides 主任.
        i, end = 0, len(text)
        while i < end:
            bucket = pairs.get(text[i:i + 2])
            if bucket:
                for word, groups in bucket:
                    if text.startswith(word, i):
                        if not self._denied(text, i):
                            for group in groups:
                                found.setdefault(group, []).append((i, word))
                        i += len(word)
                        break
                else:
                    bucket = None
                if bucket:
                    continue
            single = singles.get(text[i])
            if single and not self._denied(text, i):
                for group in single:
                    found.setdefault(group, []).append((i, text[i]))
            i += 1
        for regex, group in self._regexes:
            for match in regex.finditer(text):
                if not self._denied(text, match.start()):
                    found.setdefault(group, []).append((match.start(), match.group()))
        return found

    def find(self, text: str) -> list[Signal]:
        """Every family that fires, in the order of ORDER, each once (its first pattern found)."""
        return self.fired(self.hits(text))

    def fired(self, found: dict[str, list[tuple[int, str]]]) -> list[Signal]:
        if not found:
            return []
        fired: dict[str, Signal] = {}
        for group in found:
            for family, pattern in self._patterns_of.get(group, ()):
                if family.key in fired or not all(g in found for g in pattern):
                    continue
                words = _within(pattern, found, family.window)
                if words:
                    fired[family.key] = Signal(family.key, family.category, family.label, pattern, words)
        rank = {cat: k for k, cat in enumerate(ORDER)}
        order = {key: k for k, key in enumerate(self.rules.families)}
        return sorted(fired.values(), key=lambda s: (rank.get(s.category, len(ORDER)), order[s.family]))


def _within(pattern: tuple[str, ...], found, window: int) -> tuple[str, ...] | None:
    """One word per group of the pattern, all within `window` characters, or None."""
    first, rest = pattern[0], pattern[1:]
    for position, word in found[first]:
        chosen = [word]
        for group in rest:
            near = [(abs(p - position), w) for p, w in found[group] if abs(p - position) <= window and w != word]
            if not near:
                break
            chosen.append(min(near)[1])
        else:
            return tuple(chosen)
    return None


def parse_signals(data, check, categories) -> SignalRules:
    path = ("classification", "signals")
    data = check.mapping(data, path, required=False)
    if not data:
        return SignalRules({}, {}, ())
    groups: dict[str, tuple[str, ...]] = {}
    for key, words in check.mapping(data.get("groups"), path + ("groups",)).items():
        words = tuple(w.lower() for w in check.text_list(words, path + ("groups", key)))
        for word in words:
            if word.startswith(REGEX):
                try:
                    re.compile(word[len(REGEX):])
                except re.error as exc:
                    check.error(path + ("groups", key), f"bad regular expression {word!r}: {exc}")
        groups[key] = words
    default_window = data.get("window", 40)
    if not isinstance(default_window, int) or isinstance(default_window, bool) or default_window < 1:
        check.error(path + ("window",), "must be a whole number of characters")
        default_window = 40
    families: dict[str, Family] = {}
    for key, body in check.mapping(data.get("families"), path + ("families",)).items():
        fpath = path + ("families", key)
        body = check.mapping(body, fpath)
        category = check.text(body.get("category"), fpath + ("category",)) or ""
        if category not in ORDER or category not in categories:
            check.error(fpath + ("category",), f"must be one of {', '.join(ORDER)}")
        patterns = []
        raw = body.get("patterns")
        if not isinstance(raw, list) or not raw:
            check.error(fpath + ("patterns",), "a list of patterns, each a list of group names")
            raw = []
        for pattern in raw:
            pattern = tuple(check.text_list(pattern, fpath + ("patterns",)))
            unknown = [g for g in pattern if g not in groups]
            if unknown or not pattern:
                check.error(fpath + ("patterns",), f"unknown group {', '.join(unknown) or '(empty pattern)'}")
                continue
            patterns.append(pattern)
        window = body.get("window", default_window)
        if not isinstance(window, int) or isinstance(window, bool) or window < 1:
            check.error(fpath + ("window",), "must be a whole number of characters")
            window = default_window
        families[key] = Family(key, category, check.text(body.get("label"), fpath + ("label",)) or key,
                               tuple(patterns), window)
    denials = tuple(check.text_list(data.get("denials", []), path + ("denials",)))
    return SignalRules(groups, families, denials)
