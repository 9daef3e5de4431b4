"""Return visits by phone (电话回访): who is rated by a call rather than an SMS survey (pure).

A reporter whose number cannot get SMS (a landline), or whose report asks to be called back,
waits in the console's 回访 queue once the case is resolved; the deadline sweep does not close
it as "no response". The operator's outcome is recorded exactly as an SMS rating."""
from __future__ import annotations

from models.phones import is_mobile

ASKS_FOR_CALL = ("电话回复", "电话联系", "电话告知", "电话回访", "回电", "打电话给我", "给我打电话", "来电回复")


def contact_for(phone: str | None, text: str) -> str:
    """"phone" or "sms": how the reporter hears the outcome and is asked for satisfaction."""
    if phone and not is_mobile(phone):
        return "phone"
    return "phone" if any(words in (text or "") for words in ASKS_FOR_CALL) else "sms"
