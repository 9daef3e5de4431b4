"""Weighted-keyword scoring over jieba tokens, with negation, exclusions and an explanation.

Pure: tokens in, Classification out. Each keyword counts once per message. A keyword preceded
within `negation_window` tokens by a negation word ("不是打架") is recorded as negated and scores
nothing. An absence word ("没有") negates only events, the keywords of the `absence_cancels`
categories and urgent words: 没有打架 is no fight, but 没有路灯 and 没有交房 are the complaint.
"""
from __future__ import annotations

from collections import defaultdict
from operator import itemgetter

from .rules import ClassifierRules
from .types import UNCLASSIFIED, Classification, Match, RunnerUp


class Scorer:
    def __init__(self, rules: ClassifierRules):
        self.rules = rules
        index: dict[str, list[tuple[str, str | None, float]]] = defaultdict(list)
        for cat in rules.categories.values():
            for word, weight in cat.keywords.items():
                index[word].append((cat.key, None, weight))
            for sub in cat.subcategories.values():
                for word, weight in sub.keywords.items():
                    index[word].append((cat.key, sub.key, weight))
        self._index = dict(index)
        self._negations = frozenset(rules.negations)
        self._absences = frozenset(rules.absence_words)
        self._absence_cancels = frozenset(rules.absence_cancels)
        self._urgent = frozenset(rules.urgent_words)
        self._low = frozenset(rules.low_words)
        self._urgent_or_low = self._urgent | self._low
        self._departments = {
            sub.key: sub.department for cat in rules.categories.values() for sub in cat.subcategories.values()
        }
        self._category_keys = tuple(rules.categories)
        self._excludes = {cat.key: frozenset(cat.exclude) for cat in rules.categories.values() if cat.exclude}

    def _negation(self, tokens: list[str], position: int) -> str | None:
        """"denial" (不是), "absence" (没有) or None, for the words just before a position."""
        before = tokens[max(0, position - self.rules.negation_window):position]
        if not self._negations.isdisjoint(before):
            return "denial"
        if not self._absences.isdisjoint(before):
            return "absence"
        return None

    def score(self, tokens: list[str]) -> Classification:
        matched: list[Match] = []
        negated: list[Match] = []
        seen: set[str] = set()
        urgent: list[str] = []
        low = False
        cat_scores: dict[str, float] = defaultdict(float)
        sub_scores: dict[tuple[str, str], float] = defaultdict(float)
        index = self._index
        urgent_words, either = self._urgent, self._urgent_or_low
        for position, token in enumerate(tokens):
            if token in either:
                if token not in urgent_words:
                    low = True
                elif token not in urgent and not self._negation(tokens, position):
                    urgent.append(token)
            if token in index:
                found = ((token, 1.0),)
            elif len(token) < 3:
                continue
            else:
                found = self._words_in(token)
            for word, factor in found:
                if word in seen:
                    continue
                seen.add(word)
                negation = self._negation(tokens, position)
                for cat_key, sub_key, weight in index[word]:
                    is_negated = negation == "denial" or (negation == "absence" and cat_key in self._absence_cancels)
                    self._count(Match(word, round(weight * factor, 2), cat_key, sub_key, is_negated),
                                matched, negated, cat_scores, sub_scores)
        return self._decide(tokens, matched, negated, urgent, low, cat_scores, sub_scores)

    def _words_in(self, token: str):
        """Keywords inside a longer token that is not a keyword itself (jieba keeps 窨井盖 whole:
        井盖 counts, a little less), longest first, not overlapping."""
        found, taken = [], set()
        for size in range(len(token) - 1, 1, -1):
            for start in range(len(token) - size + 1):
                word = token[start:start + size]
                span = set(range(start, start + size))
                if word in self._index and not span & taken:
                    found.append((word, 0.8))
                    taken |= span
        return found

    @staticmethod
    def _count(match: Match, matched, negated, cat_scores, sub_scores) -> None:
        if match.negated:
            negated.append(match)
            return
        matched.append(match)
        if match.subcategory is None:
            cat_scores[match.category] += match.weight
        else:
            sub_scores[(match.category, match.subcategory)] += match.weight

    def _decide(self, tokens, matched, negated, urgent, low, cat_scores, sub_scores) -> Classification:
        best_sub: dict[str, tuple[str, float]] = {}
        for (cat_key, sub_key), value in sub_scores.items():
            held = best_sub.get(cat_key)
            if held is None or value > held[1]:
                best_sub[cat_key] = (sub_key, value)
        totals: dict[str, float] = {}
        excludes = self._excludes
        for cat_key in self._category_keys:
            sub = best_sub.get(cat_key)
            total = cat_scores.get(cat_key, 0.0) + (sub[1] if sub and sub[1] > 0 else 0.0)
            if cat_key in excludes and not excludes[cat_key].isdisjoint(tokens):
                total = 0.0
            totals[cat_key] = total

        ranked = sorted(totals.items(), key=itemgetter(1), reverse=True)
        (best_key, best), (second_key, second) = ranked[0], ranked[1] if len(ranked) > 1 else ("", 0.0)
        urgency = "urgent" if urgent else ("low" if low else "normal")
        if best < self.rules.min_score:
            return Classification(UNCLASSIFIED, None, None, urgency, best, 0.0, tuple(matched), tuple(negated),
                                  tuple(urgent), tuple(tokens), None, totals)
        subcategory = best_sub[best_key][0] if best_key in best_sub else None
        margin = best / (best + max(second, 0.0))
        strength = 1 - 0.5 ** (best / self.rules.min_score)
        runner_up = None
        if second > 0 and second >= self.rules.runner_up_ratio * best:
            runner_up = RunnerUp(second_key, best_sub[second_key][0] if second_key in best_sub else None, second)
        decisive, others = [], []
        for m in matched:
            (decisive if m.category == best_key and m.subcategory in (None, subcategory) else others).append(m)
        return Classification(
            best_key, subcategory, self._departments.get(subcategory) if subcategory else None, urgency, best,
            margin * strength, tuple(decisive + others), tuple(negated), tuple(urgent), tuple(tokens), runner_up, totals,
        )
