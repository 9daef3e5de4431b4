"""The hotline: greet in Mandarin, capture the report as speech (cmn-Hans-CN), fall back to a
recording. A transcript becomes a report on the voice channel through the same intake as an
SMS (caller matched like a sender); a recording is attached to the call for an operator and,
when there was no usable speech, opens a triage case that says a recording waits."""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, request, url_for
from twilio.twiml.voice_response import VoiceResponse

from models import Call
from models.phones import mask, try_e164
from workers.entry import TWILIO_VOICE, accept, clean_text, make_entry

from .sms import _checker

log = logging.getLogger(__name__)
bp = Blueprint("twilio_voice", __name__, url_prefix="/twilio/voice")
VOICE = {"language": "cmn-CN", "voice": "Polly.Zhiyu"}
GREETING = "您好，这里是网格通服务热线。请在提示音后说出您要反映的问题和所在小区，说完请稍等。"
RECORD_PROMPT = "没有听清。请在提示音后留言，说完按井号键。"
THANKS = "已记录您反映的问题，稍后会用短信告诉您案件编号。谢谢！"
RECORDED = "留言已收到，话务员会尽快处理。谢谢！"


def twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


def _signed_call_sid() -> str:
    """403 for a bad signature, 400 without a CallSid; else the CallSid."""
    if not _checker().valid(request):
        log.warning("voice webhook rejected: bad or missing signature")
        abort(403)
    sid = clean_text(request.form.get("CallSid")).strip()
    if not sid or len(sid) > 64:
        abort(400)
    return sid


def _action(endpoint: str) -> str:
    settings = current_app.config["GRIDLINE_SETTINGS"]
    path = url_for(endpoint)
    return f"{settings.public_url}{path}" if settings.public_url else path


def _record_fallback(response: VoiceResponse) -> None:
    response.say(RECORD_PROMPT, **VOICE)
    response.record(max_length=120, finish_on_key="#", play_beep=True,
                    recording_status_callback=_action("twilio_voice.recording"),
                    recording_status_callback_event="completed")
    response.say(RECORDED, **VOICE)


def _call(session, sid: str) -> Call:
    call = session.scalar(sa.select(Call).where(Call.call_sid == sid))
    if call is None:
        raw = clean_text(request.form.get("From")).strip()
        call = Call(call_sid=sid, from_raw=raw[:64], from_phone=try_e164(raw))
        session.add(call)
        session.flush()
    return call


@bp.post("")
def incoming_call():
    sid = _signed_call_sid()
    rt = current_app.extensions["gridline"]
    with rt.db.session() as session:
        _call(session, sid)
    response = VoiceResponse()
    gather = response.gather(input="speech", language="cmn-Hans-CN", action=_action("twilio_voice.speech"),
                             method="POST", speech_timeout="3", timeout=6)
    gather.say(GREETING, **VOICE)
    _record_fallback(response)  # reached only when the gather heard nothing
    log.info("call started sid=%s from=%s", sid, mask(try_e164(request.form.get("From"))))
    return twiml(response)


@bp.post("/speech")
def speech():
    sid = _signed_call_sid()
    text = clean_text(request.form.get("SpeechResult")).strip()
    response = VoiceResponse()
    if not text:
        _record_fallback(response)
        return twiml(response)
    rt = current_app.extensions["gridline"]
    form = request.form
    entry = make_entry(TWILIO_VOICE, form.get("From"), text, f"{sid}-speech", rt.now(), to=form.get("To") or "",
                       params={"CallSid": sid, "Confidence": form.get("Confidence") or ""})
    stored = accept(rt, entry)
    with rt.db.session() as session:
        call = _call(session, sid)
        call.transcript = text
        call.confidence = _number(form.get("Confidence"), float, 0.0, 1.0)
        if stored.message_id:
            call.inbound_id = stored.message_id
    response.say(THANKS, **VOICE)
    response.hangup()
    return twiml(response)


@bp.post("/recording")
def recording():
    sid = _signed_call_sid()
    rt = current_app.extensions["gridline"]
    form = request.form
    seconds = _number(form.get("RecordingDuration"), int, 0, 24 * 3600) or 0
    url = recording_url(form.get("RecordingUrl"))
    with rt.db.session() as session:
        call = _call(session, sid)
        call.recording_sid = clean_text(form.get("RecordingSid")).strip()[:64] or None
        call.recording_url = url
        call.recording_seconds = seconds
        needs_case = call.inbound_id is None
        from_raw = call.from_raw
    if needs_case:  # no usable speech: the recording itself must not be lost
        where = f"录音：{url}" if url else "录音地址无效，请在 Twilio 控制台按通话查找"
        entry = make_entry(TWILIO_VOICE, from_raw, f"【语音留言】{seconds}秒录音，待话务员转写。{where}",
                           f"{sid}-recording", rt.now(), to=form.get("To") or "", params={"CallSid": sid})
        stored = accept(rt, entry)
        if stored.message_id:
            with rt.db.session() as session:
                _call(session, sid).inbound_id = stored.message_id
    return Response("", status=204)


def _number(raw, kind, low, high):
    """A provider's number field, or None when it is missing, malformed or out of range: a bad
    field never costs the call its record."""
    try:
        value = kind(clean_text(raw).strip())
    except (TypeError, ValueError, OverflowError):
        return None
    return value if low <= value <= high else None


RECORDING_DOMAIN = "twilio.com"  # api.twilio.com and its regional hosts (api.dublin.us1.twilio.com)


def recording_url(raw) -> str | None:
    """Only an https URL on a Twilio host is kept: the console shows it as a link."""
    from urllib.parse import urlsplit

    value = clean_text(raw).strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme != "https" or not host.endswith("." + RECORDING_DOMAIN) or len(value) > 512:
        if value:
            log.warning("voice recording url refused: %r", value[:80])
        return None
    return value
