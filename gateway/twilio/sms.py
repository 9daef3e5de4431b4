"""Inbound SMS and delivery status webhooks. Thin: check the signature, hand an Entry to
workers.entry (store, commit, enqueue), answer. Everything else happens in workers."""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, request

from models import STATUS_RANK, OptOut, OutboundMessage, utcnow
from models.phones import mask, try_e164
from workers.entry import TWILIO_SMS, accept, clean_text, make_entry

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


@bp.post("")
def inbound_sms():
    if not _checker().valid(request):
        log.warning("sms webhook rejected: bad or missing signature remote=%s", request.remote_addr)
        abort(403)
    rt = _runtime()
    form = request.form
    stored = accept(rt, make_entry(TWILIO_SMS, form.get("From"), form.get("Body"),
                                   form.get("MessageSid") or form.get("SmsSid") or "", rt.now(),
                                   to=form.get("To") or "", params=form))
    if stored.outcome == "malformed":
        log.warning("sms webhook malformed: no MessageSid from=%s", mask(try_e164(clean_text(form.get("From")))))
        return twiml(400)
    if stored.outcome == "duplicate":
        log.info("sms webhook duplicate sid=%s", clean_text(form.get("MessageSid")))
    return twiml()


@bp.post("/status")
def delivery_status():
    if not _checker().valid(request):
        abort(403)
    sid = clean_text(request.form.get("MessageSid") or request.form.get("SmsSid")).strip()
    status = clean_text(request.form.get("MessageStatus") or request.form.get("SmsStatus")).lower()
    error_code = clean_text(request.form.get("ErrorCode"))[:16] or None
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
