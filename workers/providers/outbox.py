"""The local provider: messages are stored in the database (the outbox), not sent anywhere."""
from __future__ import annotations

from .base import Provider, SendResult


class OutboxProvider(Provider):
    name = "outbox"

    def send(self, message_id: int, to: str, body: str, template: str = "", params: dict | None = None) -> SendResult:
        return SendResult("stored", provider_sid=None)
