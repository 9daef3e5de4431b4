"""Phone numbers: parse to E.164 (default region CN) and mask for logs and staff texts."""
from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


class InvalidPhone(ValueError):
    """Not a valid phone number; the message says why, in Chinese, for the person who typed it."""


def to_e164(raw: str | None, region: str = "CN") -> str:
    """'13812345678', '+86 138 1234 5678' and '0086 138...' are one number: +8613812345678."""
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone("号码为空")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"无法识别的号码 {raw!r}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(f"无效号码 {raw!r}")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def try_e164(raw: str | None, region: str = "CN") -> str | None:
    try:
        return to_e164(raw, region)
    except InvalidPhone:
        return None


def is_mobile(e164: str) -> bool:
    try:
        return phonenumbers.number_type(phonenumbers.parse(e164)) in MOBILE_TYPES
    except phonenumbers.NumberParseException:
        return False


def mask(phone: str | None) -> str:
    """+8613812345678 -> +86138****5678; anything short is masked whole but its last two digits."""
    if not phone:
        return "-"
    if phone.startswith("+86") and len(phone) == 14:
        return phone[:6] + "****" + phone[-4:]
    if len(phone) >= 8:
        return phone[: len(phone) - 8] + "****" + phone[-4:]
    return "*" * max(len(phone) - 2, 0) + phone[-2:]


def mask_local(phone: str | None) -> str:
    """What staff see in an SMS: 138****5678 (no country code for Chinese mobiles)."""
    masked = mask(phone)
    return masked[3:] if masked.startswith("+86") else masked


def mask_name(name: str | None) -> str:
    """张三 -> 张*, 张小明 -> 张*明; an unknown name stays 居民."""
    if not name:
        return "居民"
    if len(name) == 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
