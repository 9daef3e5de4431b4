"""SMS providers, by name (GRIDLINE_SMS_PROVIDER)."""
from __future__ import annotations

import os

from ..policy import Policy
from ..settings import Settings
from .base import BACKOFF_SECONDS, NO_RETRY_CODES, Provider, SendResult
from .outbox import OutboxProvider


def make_provider(settings: Settings, policy: Policy) -> Provider:
    if settings.sms_provider == "twilio":
        from .twilio import TwilioProvider

        # GRIDLINE_TWILIO_API_BASE points the client at a local stand-in of api.twilio.com.
        return TwilioProvider(settings, policy, api_base=os.environ.get("GRIDLINE_TWILIO_API_BASE") or None)
    return OutboxProvider(policy)


__all__ = ["BACKOFF_SECONDS", "NO_RETRY_CODES", "Provider", "SendResult", "make_provider"]
