"""Free-text search terms for Chinese case texts (pure): overlapping character bigrams of each run
of CJK characters, plus each Latin word or number. Bigrams need no dictionary, so a query matches
whatever way jieba would have cut the text: "路灯坏" finds "小区门口路灯坏了" (路灯, 灯坏)."""
from __future__ import annotations

import re
import unicodedata

_RUNS = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[a-z0-9]+")


def terms(text: str) -> list[str]:
    """Distinct terms in order of first appearance."""
    seen: dict[str, None] = {}
    for run in _RUNS.findall(unicodedata.normalize("NFKC", text or "").lower()):
        if run.isascii() or len(run) == 1:
            seen.setdefault(run, None)
        else:
            for i in range(len(run) - 1):
                seen.setdefault(run[i:i + 2], None)
    return list(seen)


def index_text(text: str) -> str:
    """The value stored in cases.search_tokens."""
    return " ".join(terms(text))


def usable(terms_: list[str]) -> bool:
    """A query the index can answer: every term is a bigram or a Latin word (a single Chinese
    character is not indexed on its own, and falls back to a scan)."""
    return bool(terms_) and all(len(t) > 1 or t.isascii() for t in terms_)
