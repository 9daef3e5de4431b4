"""Who may push: Aliyun and Tencent sign nothing, so their routes need the shared secret
(?token=, compared in constant time) and, optionally, a source address in GRIDLINE_CALLBACK_ALLOW;
SMS Gateway for Android signs each event (HMAC-SHA256 over the raw body and X-Timestamp).
A channel that is not configured has no routes (404); a failed check is 403 before anything is
read or stored."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import time

from flask import abort, current_app, request

log = logging.getLogger(__name__)
MAX_SKEW_SECONDS = 300


def channels():
    return current_app.config["GRIDLINE_SETTINGS"].channels


def require_token(channel: str) -> None:
    """404 unless the channel is configured; 403 unless the source and the token are right."""
    config = channels()
    if not config.receives(channel):
        abort(404)
    if config.callback_allow and not _allowed(request.remote_addr, config.callback_allow):
        log.warning("%s push refused: source %s not in GRIDLINE_CALLBACK_ALLOW", channel, request.remote_addr)
        abort(403)
    given = request.args.get("token", "")
    if not hmac.compare_digest(given.encode("utf-8"), config.callback_token.encode("utf-8")):
        log.warning("%s push refused: %s token remote=%s", channel, "wrong" if given else "missing", request.remote_addr)
        abort(403)


def _allowed(address: str | None, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in networks)


def android_signature(key: str, body: bytes, timestamp: str) -> str:
    return hmac.new(key.encode("utf-8"), body + timestamp.encode("utf-8"), hashlib.sha256).hexdigest()


def require_android_signature() -> bytes:
    """404 unless a signing key is configured; 403 for a missing, wrong or stale signature. The raw body."""
    config = channels()
    if not config.receives("android"):
        abort(404)
    body = request.get_data(cache=True)
    timestamp = request.headers.get("X-Timestamp", "")
    signature = request.headers.get("X-Signature", "").strip().lower()
    if not signature or not timestamp.isdigit():
        log.warning("android webhook refused: no signature or timestamp remote=%s", request.remote_addr)
        abort(403)
    expected = android_signature(config.android.signing_key, body, timestamp)
    if not hmac.compare_digest(signature.encode("ascii", "replace"), expected.encode("ascii")):
        log.warning("android webhook refused: wrong signature remote=%s", request.remote_addr)
        abort(403)
    if abs(time.time() - int(timestamp)) > MAX_SKEW_SECONDS:
        log.warning("android webhook refused: stale timestamp %s remote=%s", timestamp, request.remote_addr)
        abort(403)
    return body
