"""Twilio Programmable Messaging through twilio-python, with a status callback.

429, 5xx and network errors are retried with backoff by the send job; provider errors in
NO_RETRY_CODES are final (21610 also marks the number opted out).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from models.phones import mask

from ..settings import Settings
from .base import NO_RETRY_CODES, Provider, SendResult

log = logging.getLogger(__name__)
TWILIO_API = "https://api.twilio.com"
VALIDITY_SECONDS = 4 * 3600  # a notice older than this is no longer useful
SETTLE_LOOKBACK = 50  # messages to one phone looked at when settling an interrupted send
CLOCK_SKEW = timedelta(minutes=2)


class RebasedHttpClient(TwilioHttpClient):
    """Sends Twilio API calls to another base URL (a local stand-in in tests and benchmarks)."""

    def __init__(self, base_url: str, **kwargs):
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        return super().request(method, url.replace(TWILIO_API, self.base_url), *args, **kwargs)


class TwilioProvider(Provider):
    name = "twilio"

    def __init__(self, settings: Settings, policy, api_base: str | None = None):
        super().__init__(policy)
        http_client = RebasedHttpClient(api_base, timeout=10) if api_base else TwilioHttpClient(timeout=10)
        self.client = Client(settings.twilio_account_sid, settings.twilio_auth_token, http_client=http_client)
        self.sender = settings.short_number
        self.status_callback = f"{settings.public_url}/twilio/sms/status" if settings.public_url else None

    def close(self) -> None:
        session = getattr(self.client.http_client, "session", None)
        if session is not None:
            session.close()

    def send(self, message_id: int, to: str, body: str, template: str = "", params: dict | None = None) -> SendResult:
        kwargs = {"to": to, "body": body, "validity_period": VALIDITY_SECONDS}
        if self.sender.startswith("MG"):
            kwargs["messaging_service_sid"] = self.sender
        else:
            kwargs["from_"] = self.sender
        if self.status_callback:
            kwargs["status_callback"] = self.status_callback
        try:
            message = self.client.messages.create(**kwargs)
        except TwilioRestException as exc:
            code = str(exc.code) if exc.code else None
            if exc.status == 429 or exc.status >= 500:
                return SendResult("retry", error_code=code or str(exc.status), error=f"HTTP {exc.status}: {exc.msg}")
            if code in NO_RETRY_CODES:
                return SendResult("failed", error_code=code, error=NO_RETRY_CODES[code])
            return SendResult("failed", error_code=code or str(exc.status), error=f"HTTP {exc.status}: {exc.msg}")
        except (requests.ReadTimeout, requests.exceptions.ChunkedEncodingError) as exc:
            # The request went out; Twilio may have taken it. Settled by asking, never resent blind.
            log.warning("twilio send unanswered message_id=%s to=%s error=%s", message_id, mask(to), exc)
            return SendResult("unknown", error=f"no answer: {exc.__class__.__name__}")
        except (requests.RequestException, TwilioException, OSError) as exc:
            log.warning("twilio send network error message_id=%s to=%s error=%s", message_id, mask(to), exc)
            return SendResult("retry", error=f"network: {exc.__class__.__name__}")
        return SendResult(message.status or "queued", provider_sid=message.sid)

    def settle(self, message_id: int, to: str, body: str, since: datetime, known_sids: set[str]) -> SendResult | None:
        """Twilio keeps no reference of ours, so our message is the newest one to the same phone,
        with the same text, created since the send began, under a SID no other row holds."""
        kwargs = {"to": to, "limit": SETTLE_LOOKBACK}
        if not self.sender.startswith("MG"):
            kwargs["from_"] = self.sender
        earliest = since.replace(tzinfo=timezone.utc) - CLOCK_SKEW
        for message in self.client.messages.list(**kwargs):  # newest first
            created = message.date_created
            if created is not None and created.tzinfo is None:
                created = created.replace(tzinfo=timezone.utc)
            if created is not None and created < earliest:
                break
            if (message.body or "").endswith(body) and message.sid not in known_sids:  # trial accounts prefix a note
                log.info("interrupted send settled message_id=%s sid=%s status=%s", message_id, message.sid,
                         message.status)
                return SendResult(message.status or "queued", provider_sid=message.sid)
        return None
