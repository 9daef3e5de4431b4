"""What an inbound resident text asks for (pure): a report, a status query, opt-out/in, a reply
to one of their cases, or nothing usable."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .policy import Conversation

_TRIM = " \t\r\n.,!?;:。，！？；：、~～\"'“”‘’()（）【】[]"
_CASE_PREFIX = re.compile(r"^\s*(?:案件|编号|#)?\s*(\d{6,8})(?:\D|$)")


@dataclass(frozen=True)
class Intent:
    kind: str  # report, empty, oversized, opt_out, opt_in, status, case_reply
    text: str = ""
    case_number: str | None = None


def keyword_form(body: str) -> str:
    """NFKC (full width -> half width), trimmed of spaces and punctuation, upper case."""
    return unicodedata.normalize("NFKC", body).strip(_TRIM).replace(" ", "").upper()


def read_intent(body: str, rules: Conversation, open_case_numbers: frozenset[str] = frozenset()) -> Intent:
    if len(body) > rules.max_body_chars:
        return Intent("oversized", body)
    word = keyword_form(body)
    if not word:
        return Intent("empty")
    if word in rules.opt_out_words:
        return Intent("opt_out")
    if word in rules.opt_in_words:
        return Intent("opt_in")
    if word in rules.status_words:
        return Intent("status")
    match = _CASE_PREFIX.match(unicodedata.normalize("NFKC", body))
    if match and match.group(1) in open_case_numbers:
        rest = unicodedata.normalize("NFKC", body)[match.end(1):].strip(_TRIM)
        return Intent("case_reply", rest, match.group(1))
    return Intent("report", body.strip())
