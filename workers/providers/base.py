"""The SMS provider interface. A message is a template key plus parameters; each provider
renders it (a mainland provider would send the template code and parameters instead)."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

from ..policy import Policy
from ..texts import render

# Provider error codes that must never be retried, and what each means.
NO_RETRY_CODES = {
    "21610": "对方已回复 STOP 退订",
    "30005": "号码不存在",
    "30006": "固定电话或无法接收短信",
    "30007": "内容被运营商拦截",
    "21211": "号码无效",
    "21614": "号码不能接收短信",
}
OPT_OUT_CODES = {"21610"}
BACKOFF_SECONDS = (10, 60, 300, 900, 3600)


@dataclass(frozen=True)
class SendResult:
    status: str  # stored, queued, sent, failed, retry, unknown (the provider may have it: settle first)
    provider_sid: str | None = None
    error_code: str | None = None
    error: str = ""

    @property
    def opted_out(self) -> bool:
        return self.error_code in OPT_OUT_CODES


class Provider(ABC):
    name: str = ""
    # Fields of a message that are personal data and must be masked in logs.
    personal_fields = ("to", "body")

    def __init__(self, policy: Policy):
        self.policy = policy

    def render(self, template: str, params: dict) -> str:
        return self.policy.signature + render(self.policy, template, params)

    def close(self) -> None:
        """Release connections (the Twilio provider keeps an HTTP session)."""

    @abstractmethod
    def send(self, message_id: int, to: str, body: str) -> SendResult: ...

    def settle(self, message_id: int, to: str, body: str, since: datetime, known_sids: set[str]) -> SendResult | None:
        """A send was interrupted (the worker died during the call): did the provider take it?
        The result it has for our message (sent at or after `since`, not one of `known_sids`), or
        None when it never got it and the message may be sent again. Raises when it cannot tell.
        A provider whose send has no outside effect is settled trivially."""
        return None
