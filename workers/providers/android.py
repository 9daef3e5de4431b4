"""SMS Gateway for Android (an office's own phone and SIM) through the `android-sms-gateway`
client: free text, with our message id as the app's message id ("gridline-<id>"), so the
sms:sent / sms:delivered / sms:failed webhooks land on the right row and a send whose answer was
lost can be looked up by that id (`get_state`; 404 means the phone never got it).
"""
from __future__ import annotations

import logging
from datetime import timedelta

import requests
from android_sms_gateway import client as sms_client
from android_sms_gateway import domain
from android_sms_gateway.errors import APIError, NotFoundError
from android_sms_gateway.http import RequestsHttpClient

from models.phones import mask

from ..channels import Android
from ..pushes import ANDROID_ID_PREFIX
from .base import Pacer, Provider, SendResult, Settled, never_connected

log = logging.getLogger(__name__)
STATES = {"Pending": "queued", "Processed": "queued", "Sent": "sent", "Delivered": "delivered", "Failed": "failed",
          "Cancelling": "queued", "Cancelled": "failed"}
READ_TIMEOUT = 15  # seconds; after it a send's outcome is unknown
LIFETIME = 4 * 3600  # a notice older than this is no longer useful


class _Session(requests.Session):
    def request(self, *args, **kwargs):
        kwargs.setdefault("timeout", (5, READ_TIMEOUT))
        return super().request(*args, **kwargs)


class AndroidProvider(Provider):
    name = "android"
    settle_by_query = True
    absent_after = timedelta(minutes=2)

    def __init__(self, config: Android, policy):
        super().__init__(policy)
        self.session = _Session()
        self.api = sms_client.APIClient(config.username, config.password, base_url=config.url,
                                        http=RequestsHttpClient(session=self.session))
        self.pacer = Pacer(1)  # one phone, one SIM: carriers flag faster senders as spam

    def close(self) -> None:
        self.session.close()

    def send(self, message_id: int, to: str, body: str, template: str = "", params: dict | None = None) -> SendResult:
        message = domain.Message(phone_numbers=[to], text_message=domain.TextMessage(text=body),
                                 with_delivery_report=True, ttl=LIFETIME, id=f"{ANDROID_ID_PREFIX}{message_id}")
        self.pacer.wait()
        try:
            state = self.api.send(message)
        except APIError as exc:
            status = exc.status_code or 0
            if status in (401, 403, 429):  # refused before anything was sent: try again later
                return SendResult("retry", error_code=str(status), error=f"HTTP {status}: {exc}", retry_after=300)
            if 400 <= status < 500:
                return SendResult("failed", error_code=str(status), error=f"HTTP {status}: {exc}")
            return self._unknown(message_id, to, f"HTTP {status}")
        except (requests.RequestException, OSError) as exc:
            if never_connected(exc):
                log.warning("android phone unreachable message_id=%s to=%s", message_id, mask(to))
                return SendResult("retry", error="network: 无法连接短信手机")
            return self._unknown(message_id, to, exc.__class__.__name__)
        return SendResult(STATES.get(state.state.value, "queued"), provider_sid=state.id)

    def _unknown(self, message_id: int, to: str, why: str) -> SendResult:
        log.warning("android send outcome unknown message_id=%s to=%s: %s", message_id, mask(to), why)
        return SendResult("unknown", error_code=why[:16], error="发送结果未知，等待手机回报或查询，不重发")

    def query(self, message_id: int, to: str, provider_sid: str | None, sent_at) -> Settled | None:
        sid = provider_sid or f"{ANDROID_ID_PREFIX}{message_id}"
        try:
            state = self.api.get_state(sid)
        except NotFoundError:
            return Settled("absent")
        except (APIError, requests.RequestException, OSError) as exc:
            log.warning("android query failed message_id=%s: %s", message_id, exc.__class__.__name__)
            return None
        status = STATES.get(state.state.value, "queued")
        return Settled(status, state.id, "android" if status == "failed" else None, "")
