"""Reports that arrive through a person rather than a provider: an operator's call notes, the
JSON API. They go through the same entry as an SMS (workers.entry), through a door that does not
prove the handset: they open or add to cases only, and the trail names the person who typed
them. Run at once, so the person hears the case number."""
from __future__ import annotations

from models.phones import InvalidPhone, to_e164
from workers.entry import Door, accept_now, clean_text, make_entry

MAX_TEXT = 2000


class ReportError(ValueError):
    """A bad report; str() is the Chinese message for the person who entered it."""


def submit_report(rt, door: Door, phone: str, text: str, user_id: int, user_label: str) -> int | None:
    """Store and process a report; returns the case id (None when it ended without a case)."""
    text = clean_text(text).strip()
    if not text:
        raise ReportError("请填写反映内容")
    if len(text) > MAX_TEXT:
        raise ReportError(f"内容超过 {MAX_TEXT} 字")
    try:
        e164 = to_e164(clean_text(phone))
    except InvalidPhone as exc:
        raise ReportError(f"来电号码：{exc}") from exc
    entry = make_entry(door, e164, text, None, rt.now(), entered_by=user_id, entered_by_label=user_label)
    return accept_now(rt, entry)[1]
