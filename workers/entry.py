"""One typed way in. Every door (Twilio SMS and voice, an operator's call notes, the JSON API, the
console's phone simulator, and any provider added later) hands intake the same record, an
`Entry`, and says through its `Door` what the message may do.

Only a door that proves the handset (a provider push with a valid signature or secret) may act
as the phone: run team members' commands, rate a case, opt out or in, ask for status, or join a
conversation. A report entered by a person opens or adds to cases only, and the trail names that
person. The simulator acts as the phone too, but only for numbers in a training area, and every
message it makes is recorded as simulated.

Text is cleaned at the door: NUL, other control characters and zero-width characters are
stripped (a body of only such characters is an empty message, answered as one), so that no
database refuses a message and no message is lost.

`accept` stores the entry (one autocommitted INSERT, deduplicated by the door's provider id) and
only then hands it to the workers (see workers.handoff).
"""
from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Mapping

from models.phones import try_e164

from . import handoff


@dataclass(frozen=True)
class Door:
    name: str             # stored with the message: twilio_sms, api, ...
    channel: str          # the channel cases and messages record: sms, voice, api, operator
    acts_as_phone: bool   # may run commands, ratings, opt-outs, status queries, joins as the phone
    simulated: bool = False
    label: str = ""       # Chinese, for the trail


TWILIO_SMS = Door("twilio_sms", "sms", acts_as_phone=True, label="短信")
TWILIO_VOICE = Door("twilio_voice", "voice", acts_as_phone=True, label="电话")
CALL_NOTES = Door("call_notes", "operator", acts_as_phone=False, label="话务登记")
API = Door("api", "api", acts_as_phone=False, label="接口")
SIMULATOR = Door("simulator", "sms", acts_as_phone=True, simulated=True, label="培训模拟")

DOORS: dict[str, Door] = {d.name: d for d in (TWILIO_SMS, TWILIO_VOICE, CALL_NOTES, API, SIMULATOR)}
# Messages stored before doors were recorded: their channel says which door they came through.
_LEGACY = {"sms": TWILIO_SMS, "voice": TWILIO_VOICE, "operator": CALL_NOTES, "api": API}


def register_door(door: Door) -> Door:
    """A provider added later (Aliyun, Tencent, an Android gateway) declares its door once."""
    DOORS[door.name] = door
    return door


def door_named(name: str | None, channel: str = "sms") -> Door:
    if not name:
        return _LEGACY.get(channel, API)
    return DOORS.get(name, API)  # an unknown door never widens what a message may do


# NUL and C0/C1 controls (tab and newline kept), zero-width and direction marks, soft hyphen,
# lone surrogates: nothing a resident meant to write, and NUL is refused by PostgreSQL.
_UNWANTED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff"
                       "\ud800-\udfff]")


def clean_text(value) -> str:
    text = value if isinstance(value, str) else str(value or "")
    if _UNWANTED.search(text) is None:  # nearly always: one scan, no copy
        return text
    return _UNWANTED.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


@dataclass(frozen=True)
class Entry:
    door: Door
    phone: str | None           # E.164, None when the sender cannot be read
    phone_raw: str
    text: str
    provider_id: str            # dedupe key: one stored message per id
    received_at: datetime
    entered_by: int | None = None   # the console user or API token owner who typed it
    entered_by_label: str = ""      # "话务员 小王", for the trail
    to: str = ""
    params: Mapping[str, str] = field(default_factory=dict)  # the provider's own fields, as received

    @property
    def channel(self) -> str:
        return self.door.channel

    @property
    def acts_as_phone(self) -> bool:
        return self.door.acts_as_phone


def make_entry(door: Door, phone_raw, text, provider_id: str | None, received_at: datetime, *,
               entered_by: int | None = None, entered_by_label: str = "", to: str = "",
               params: Mapping | None = None) -> Entry:
    """The one constructor: cleans every string, parses the phone. A door without its own id
    (a person typing) gets a fresh one."""
    phone_raw = clean_text(phone_raw).strip()
    cleaned = {clean_text(k): clean_text(v) for k, v in (params or {}).items()}
    return Entry(door=door, phone=try_e164(phone_raw), phone_raw=phone_raw, text=clean_text(text),
                 provider_id=clean_text(provider_id).strip() if provider_id is not None else f"{door.name}-{uuid.uuid4().hex}",
                 received_at=received_at, entered_by=entered_by, entered_by_label=clean_text(entered_by_label),
                 to=clean_text(to).strip(), params=cleaned)


def entry_of(message) -> Entry:
    """The Entry a stored InboundMessage was made from (what the worker decides on)."""
    params = message.params if isinstance(message.params, dict) else {}
    return Entry(door=door_named(getattr(message, "door", None), message.channel), phone=message.from_phone,
                 phone_raw=message.from_raw, text=message.body, provider_id=message.provider_sid,
                 received_at=message.received_at, entered_by=getattr(message, "entered_by_id", None),
                 entered_by_label=str(params.get("EnteredBy") or ""), to=message.to, params=params)


# -- storing ----------------------------------------------------------------------------------
_COLUMNS = ("provider_sid", "channel", "door", "entered_by_id", "from_raw", "from_phone", "to", "body", "params",
            "status", "outcome", "outcome_note", "attempts", "received_at", "processed_at")


@lru_cache(maxsize=4)
def _insert_sql(dialect: str) -> str:
    """INSERT ... ON CONFLICT (provider_sid) DO NOTHING RETURNING id, as driver SQL: the webhook's
    one statement skips SQLAlchemy's per-call compilation and parameter processing."""
    mark = (lambda c: f"%({c})s") if dialect == "postgresql" else (lambda c: f":{c}")
    columns = ", ".join(f'"{c}"' for c in _COLUMNS)
    values = ", ".join(mark(c) for c in _COLUMNS)
    return (f"INSERT INTO inbound_messages ({columns}) VALUES ({values}) "
            "ON CONFLICT (provider_sid) DO NOTHING RETURNING id")


def _timestamp(value, dialect: str):
    # SQLite stores SQLAlchemy DateTime as text in this exact format.
    return value if value is None or dialect == "postgresql" else value.strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass(frozen=True)
class Stored:
    message_id: int | None   # None: a duplicate of a stored message
    outcome: str             # stored, duplicate, malformed


def store(rt, entry: Entry) -> Stored:
    """Store an entry once per provider id. One statement, autocommitted: atomic and durable when it
    returns, one round trip."""
    dialect = rt.db.dialect
    now = _timestamp(entry.received_at, dialect)
    params = dict(entry.params)
    if entry.entered_by_label:
        params["EnteredBy"] = entry.entered_by_label
    values = {
        "provider_sid": entry.provider_id, "channel": entry.channel, "door": entry.door.name,
        "entered_by_id": entry.entered_by, "from_raw": entry.phone_raw[:64], "from_phone": entry.phone,
        "to": entry.to[:32], "body": entry.text, "params": json.dumps(params, ensure_ascii=False),
        "status": "received", "outcome": None, "outcome_note": "", "attempts": 0, "received_at": now,
        "processed_at": None,
    }
    if not entry.provider_id or len(entry.provider_id) > 64:
        values.update(provider_sid=f"malformed-{uuid.uuid4().hex}", status="rejected", outcome="malformed",
                      outcome_note="缺少或无效的消息编号（MessageSid）", processed_at=now)
    new_id = rt.db.insert_returning(_insert_sql(dialect), values)
    if values["outcome"] == "malformed":
        return Stored(new_id, "malformed")
    return Stored(new_id, "stored" if new_id is not None else "duplicate")


def accept(rt, entry: Entry) -> Stored:
    """Store, then hand to the workers: the one way in for every door. A message stored while
    Redis is down stays stored; the inbound sweep hands it over later."""
    stored = store(rt, entry)
    if stored.outcome == "stored" and stored.message_id is not None:
        handoff.after_commit(rt, inbound=[stored.message_id])
    return stored


def accept_now(rt, entry: Entry) -> tuple[int | None, int | None]:
    """Store and process at once, in this process (a person waits for the case number): returns
    (message id, case id or None). The SMS it queued are enqueued after the commit."""
    from models import InboundMessage

    from .jobs.inbound import handle_message

    stored = store(rt, entry)
    if stored.message_id is None:
        return None, None
    _, outbound = handle_message(rt, stored.message_id)
    handoff.after_commit(rt, outbound=outbound)
    with rt.db.session() as session:
        return stored.message_id, session.get(InboundMessage, stored.message_id).case_id
