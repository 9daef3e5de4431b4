"""SMS providers, by name (GRIDLINE_SMS_PROVIDER, and the mainland channels configured beside it)."""
from __future__ import annotations

import os

from ..policy import Policy
from ..settings import Settings
from .base import BACKOFF_SECONDS, NO_RETRY_CODES, Provider, SendResult, Settled

NAMES = ("outbox", "twilio", "aliyun", "tencent", "android")


def senders(settings: Settings) -> frozenset[str]:
    """The providers this configuration can send through: the chosen one, and every mainland
    channel whose credentials are set (a resident's reply goes back through the channel used)."""
    return frozenset({settings.sms_provider} | {n for n in ("aliyun", "tencent", "android") if settings.channels.sends(n)})


def make_provider(settings: Settings, policy: Policy, name: str | None = None) -> Provider:
    name = name or settings.sms_provider
    channels = settings.channels
    if name == "twilio":
        from .twilio import TwilioProvider

        # GRIDLINE_TWILIO_API_BASE points the client at a local stand-in of api.twilio.com.
        provider = TwilioProvider(settings, policy, api_base=os.environ.get("GRIDLINE_TWILIO_API_BASE") or None)
    elif name == "aliyun" and channels.sends("aliyun"):
        from .aliyun import AliyunProvider

        provider = AliyunProvider(channels.aliyun, policy)
    elif name == "tencent" and channels.sends("tencent"):
        from .tencent import TencentProvider

        provider = TencentProvider(channels.tencent, policy)
    elif name == "android" and channels.sends("android"):
        from .android import AndroidProvider

        provider = AndroidProvider(channels.android, policy)
    else:
        from .outbox import OutboxProvider

        provider = OutboxProvider(policy)
    provider.senders = senders(settings)
    return provider


__all__ = ["BACKOFF_SECONDS", "NAMES", "NO_RETRY_CODES", "Provider", "SendResult", "Settled", "make_provider", "senders"]
