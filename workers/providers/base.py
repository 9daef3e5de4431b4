"""The SMS provider interface. A message is a template key plus parameters; each provider
renders it (a mainland provider would send the template code and parameters instead)."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta

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
    status: str  # stored, queued, sent, delivered, failed, retry (surely not sent), unknown (may have been sent)
    provider_sid: str | None = None
    error_code: str | None = None
    error: str = ""
    retry_after: int | None = None  # seconds the provider asks us to wait (rate limits)

    @property
    def opted_out(self) -> bool:
        return self.error_code in OPT_OUT_CODES


# A connection that was never made: surely nothing was sent.
NEVER_CONNECTED = ("NewConnectionError", "ConnectTimeout", "Connection refused", "Name or service not known",
                   "Temporary failure in name resolution", "No route to host")


def never_connected(exc: BaseException) -> bool:
    seen, todo = set(), [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if any(mark in f"{current.__class__.__name__}: {current}" for mark in NEVER_CONNECTED):
            return True
        todo += [current.__cause__, current.__context__, getattr(current, "inner_exception", None)]
    return False


class Provider(ABC):
    name: str = ""
    senders: frozenset = frozenset()  # the providers replies may go through (set by make_provider)
    # How long after an unknown send a status query that finds nothing means "never sent".
    absent_after = timedelta(minutes=10)
    # Not idempotent, but can be asked about one of our messages by our id (`query`): a send
    # that timed out may have gone out, so it waits as `unknown` for jobs.settle, never resent blind.
    settle_by_query = False
    # Fields of a message that are personal data and must be masked in logs.
    personal_fields = ("to", "body")

    def __init__(self, policy: Policy):
        self.policy = policy

    def render(self, template: str, params: dict) -> str:
        return self.policy.signature + render(self.policy, template, params)

    def close(self) -> None:
        """Release connections (the Twilio provider keeps an HTTP session)."""

    @abstractmethod
    def send(self, message_id: int, to: str, body: str, template: str = "", params: dict | None = None) -> SendResult: ...

    def settle(self, message_id: int, to: str, body: str, since: datetime, known_sids: set[str]) -> SendResult | None:
        """A send was interrupted (the worker died during the call): did the provider take it?
        The result it has for our message (sent at or after `since`, not one of `known_sids`), or
        None when it never got it and the message may be sent again. Raises when it cannot tell.
        A provider whose send has no outside effect is settled trivially; one asked by our id
        (settle_by_query) holds it as unknown for jobs.settle."""
        if self.settle_by_query:
            return SendResult("unknown", error="发送中断，等待状态报告或查询，不重发")
        return None

    def query(self, message_id: int, to: str, provider_sid: str | None, sent_at) -> "Settled | None":
        """What the provider knows of a send whose outcome is unknown; None when it cannot tell yet."""
        return None


@dataclass(frozen=True)
class Settled:
    status: str  # queued, sent, delivered, undelivered, failed, absent (the provider never got it)
    provider_sid: str | None = None
    error_code: str | None = None
    error: str = ""


class Pacer:
    """Keeps one process's sends under a provider's rate (requests per second)."""

    def __init__(self, per_second: float):
        import threading

        self.interval = 1.0 / per_second
        self.next_at = 0.0
        self.lock = threading.Lock()

    def wait(self) -> None:
        import time

        with self.lock:
            now = time.monotonic()
            delay = self.next_at - now
            self.next_at = max(now, self.next_at) + self.interval
        if delay > 0:
            time.sleep(delay)


def template_values(policy, provider: str, template: str, params: dict | None):
    """(approved template id, [(name, value)]) or None when the template has no approved id."""
    mapped = policy.provider_templates.get(provider, {}).get(template)
    if mapped is None:
        return None
    params = params or {}
    return mapped.id, [(name, "" if params.get(name) is None else str(params.get(name))) for name in mapped.params]


def no_template(provider: str, template: str) -> SendResult:
    return SendResult("failed", error_code="no_template",
                      error=f"短信模板 {template} 没有审核通过的{provider}模板编号（routing_rules.yaml provider_templates.{provider}）")
