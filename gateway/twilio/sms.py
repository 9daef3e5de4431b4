"""Inbound SMS and delivery status webhooks. Thin: check the signature, store, commit, enqueue,
answer. Everything else happens in workers."""
from __future__ import annotations

import json
import logging
import uuid
from functools import lru_cache

import redis
import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, request

from models import STATUS_RANK, OptOut, OutboundMessage, utcnow
from models.phones import mask, try_e164
from workers import inbox

from .signature import SignatureChecker

log = logging.getLogger(__name__)
bp = Blueprint("twilio_sms", __name__, url_prefix="/twilio/sms")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def twiml(status: int = 200) -> Response:
    return Response(EMPTY_TWIML, status=status, mimetype="text/xml")


def _runtime():
    return current_app.extensions["gridline"]


def _checker() -> SignatureChecker:
    checker = current_app.extensions.get("gridline.signature")
    if checker is None:
        settings = current_app.config["GRIDLINE_SETTINGS"]
        checker = current_app.extensions["gridline.signature"] = SignatureChecker(settings.twilio_auth_token, settings.public_url)
    return checker


_COLUMNS = ("provider_sid", "channel", "from_raw", "from_phone", "to", "body", "params", "status", "outcome",
            "outcome_note", "attempts", "received_at", "processed_at")


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


def store_inbound(rt, form, channel: str = "sms") -> tuple[int | None, str]:
    """Store a webhook's message once per MessageSid. (id or None for a duplicate, outcome)."""
    params = {key: form.get(key) for key in form.keys()}
    sid = (params.get("MessageSid") or params.get("SmsSid") or "").strip()
    from_raw = params.get("From") or ""
    dialect = rt.db.dialect
    now = _timestamp(rt.now(), dialect)
    values = {
        "provider_sid": sid, "channel": channel, "from_raw": from_raw[:64], "from_phone": try_e164(from_raw),
        "to": (params.get("To") or "")[:32], "body": params.get("Body") or "",
        "params": json.dumps(params, ensure_ascii=False),
        "status": "received", "outcome": None, "outcome_note": "", "attempts": 0, "received_at": now,
        "processed_at": None,
    }
    if not sid or len(sid) > 64:
        values.update(provider_sid=f"malformed-{uuid.uuid4().hex}", status="rejected", outcome="malformed",
                      outcome_note="缺少或无效的 MessageSid", processed_at=now)
    # One statement, autocommitted: atomic and durable when it returns, one round trip.
    new_id = rt.db.insert_returning(_insert_sql(dialect), values)
    return new_id, values["outcome"] or "stored"


@bp.post("")
def inbound_sms():
    if not _checker().valid(request):
        log.warning("sms webhook rejected: bad or missing signature remote=%s", request.remote_addr)
        abort(403)
    rt = _runtime()
    message_id, outcome = store_inbound(rt, request.form)
    if outcome == "malformed":
        log.warning("sms webhook malformed: no MessageSid from=%s", mask(try_e164(request.form.get("From"))))
        return twiml(400)
    if message_id is None:
        log.info("sms webhook duplicate sid=%s", request.form.get("MessageSid"))
        return twiml()
    hand_over(rt, message_id)
    return twiml()


def hand_over(rt, message_id: int) -> None:
    """Give a stored message to the workers. If Redis is down it stays stored and committed:
    the inbound sweep enqueues it once Redis answers again."""
    try:
        inbox.push(rt.redis, message_id)
    except (redis.RedisError, OSError) as exc:
        log.error("message stored but not enqueued id=%s error=%s", message_id, exc)


@bp.post("/status")
def delivery_status():
    if not _checker().valid(request):
        abort(403)
    sid = request.form.get("MessageSid") or request.form.get("SmsSid") or ""
    status = (request.form.get("MessageStatus") or request.form.get("SmsStatus") or "").lower()
    error_code = request.form.get("ErrorCode") or None
    if not sid or status not in STATUS_RANK:
        return twiml(400)
    lower = [s for s, rank in STATUS_RANK.items() if rank < STATUS_RANK[status]]
    rt = _runtime()
    with rt.db.session() as session:
        values = {"status": status, "updated_at": utcnow()}
        if error_code:
            values["error_code"] = error_code
        updated = session.execute(
            sa.update(OutboundMessage)
            .where(OutboundMessage.provider_sid == sid, OutboundMessage.status.in_(lower))
            .values(**values)
        ).rowcount
        if error_code == "21610":
            to = session.scalar(sa.select(OutboundMessage.to).where(OutboundMessage.provider_sid == sid))
            if to and session.get(OptOut, to) is None:
                session.add(OptOut(phone=to, source="provider_21610"))
    log.info("sms status sid=%s status=%s applied=%s", sid, status, bool(updated))
    return twiml()
