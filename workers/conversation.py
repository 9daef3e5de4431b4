"""What an inbound resident text asks for (pure): a report, a status query, opt-out/in, a reply
to one of their cases, or nothing usable."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from classifier.normalize import to_simplified

from .policy import Conversation

_TRIM = " \t\r\n.,!?;:。，！？；：、~～\"'“”‘’()（）【】[]"
_CASE_PREFIX = re.compile(r"^\s*(?:案件|编号|#)?\s*(\d{6,8})(?![\d元块米万号楼层栋幢户%])")


@dataclass(frozen=True)
class Intent:
    kind: str  # report, empty, oversized, opt_out, opt_in, status, case_reply, unknown_case
    text: str = ""
    case_number: str | None = None


def keyword_form(body: str) -> str:
    """NFKC (full width -> half width), simplified characters, trimmed of spaces and
    punctuation, upper case: "查詢" and "ＣＸ" are "查询" and "CX"."""
    return to_simplified(unicodedata.normalize("NFKC", body)).strip(_TRIM).replace(" ", "").upper()


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
    if match:
        rest = unicodedata.normalize("NFKC", body)[match.end(1):].strip(_TRIM)
        # A number that is not one of the sender's open cases is never taken as another case.
        return Intent("case_reply" if match.group(1) in open_case_numbers else "unknown_case", rest, match.group(1))
    return Intent("report", body.strip())


# -- does a second text continue the first? ---------------------------------------------------
FRAGMENT_MIN_CHARS = 60             # a long SMS split by the network arrives in pieces of ~67 chars
FRAGMENT_GAP = timedelta(minutes=2)
ANOTHER_MATTER = ("还有", "另外", "另有", "此外", "顺便", "再反映", "再就是", "再一个", "还想反映", "还要反映")
STRONG_WEIGHT = 3                   # a keyword this heavy names a matter ("路灯" 4, "垃圾桶" 3; not "小区" 1)
_ENDS_SENTENCE = tuple("。！？!?.…")


def continues(previous: str, gap: timedelta, text: str, words: frozenset[str], case_words: frozenset[str],
              same_category: bool, window: timedelta) -> str | None:
    """Why a resident's text joins the case they opened moments ago, or None for a new case (pure).

    Within the join window only, and then:
    "fragment": the previous piece was as long as an SMS segment, did not end a sentence, and
    this one came right after it (a long SMS split on the way);
    "detail": the text names no matter of its own (`words`, its strong keywords, is empty:
    "就在3幢门口", "已经一周了");
    "same_matter": it shares a strong keyword with the case ("路灯还是不亮"), or, unless it opens
    with a word that announces another matter ("还有", "另外"), it is of the case's category
    ("已经三天了，物业一直不来修" after "楼上漏水").
    Anything else opens a new case: "还有垃圾桶满了" after a street light is a second matter."""
    if gap > window:
        return None
    last = previous.rstrip()
    if gap <= FRAGMENT_GAP and len(last) >= FRAGMENT_MIN_CHARS and not last.endswith(_ENDS_SENTENCE):
        return "fragment"
    if not words:
        return "detail"
    if words & case_words:
        return "same_matter"
    if same_category and not to_simplified(text.strip()).startswith(ANOTHER_MATTER):
        return "same_matter"
    return None
