"""Alibaba Cloud SMS (Dysmsapi 2017-05-25) through the official SDK.

Every SMS is an approved template (TemplateCode) plus its parameters (TemplateParam), signed
with the approved 签名; our message id travels as OutId and comes back in SmsReport pushes and
in QuerySendDetails. SendSms is not idempotent: a call that timed out or failed on the server
may still have sent the SMS, so it is held as `unknown` and settled, never sent blindly again.
Only what surely did not go out (no connection, throttling, a refusal) is retried.
"""
from __future__ import annotations

import json
import logging
from datetime import timedelta

from alibabacloud_dysmsapi20170525 import models as sms_models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi import models as api_models
from alibabacloud_tea_util import models as util_models

from models.base import to_local
from models.phones import mask

from ..channels import Aliyun
from .base import Pacer, Provider, SendResult, Settled, never_connected, no_template, template_values

log = logging.getLogger(__name__)
# Refusals that mean "not sent, try later": throttling, per-number frequency limits, no balance.
LATER = {"Throttling.User": 60, "Throttling.Api": 60, "isv.BUSINESS_LIMIT_CONTROL": 300,
         "isv.DAY_LIMIT_CONTROL": 3600, "isv.AMOUNT_NOT_ENOUGH": 900, "isv.OUT_OF_SERVICE": 900,
         "ServiceUnavailable": 60}
READ_TIMEOUT = 10  # seconds; after it a send's outcome is unknown
SEND_STATUS = {1: "queued", 2: "undelivered", 3: "delivered"}  # QuerySendDetails SendStatus


def aliyun_phone(e164: str) -> str:
    """Mainland numbers without +86; others as 00 + country code + number."""
    return e164[3:] if e164.startswith("+86") else "00" + e164.lstrip("+")


class AliyunProvider(Provider):
    name = "aliyun"
    settle_by_query = True
    absent_after = timedelta(minutes=10)  # QuerySendDetails lists a send within seconds of it

    def __init__(self, config: Aliyun, policy):
        super().__init__(policy)
        self.config = config
        self.client = Client(api_models.Config(access_key_id=config.access_key_id,
                                               access_key_secret=config.access_key_secret,
                                               endpoint=config.endpoint, protocol=config.protocol))
        self.options = util_models.RuntimeOptions(connect_timeout=5000, read_timeout=READ_TIMEOUT * 1000, autoretry=False,
                                                  max_attempts=1)
        self.pacer = Pacer(5000)  # the documented per-user QPS

    def send(self, message_id: int, to: str, body: str, template: str = "", params: dict | None = None) -> SendResult:
        values = template_values(self.policy, self.name, template, params)
        if values is None:
            return no_template(self.name, template)
        template_id, pairs = values
        request = sms_models.SendSmsRequest(
            phone_numbers=aliyun_phone(to), sign_name=self.config.sign_name, template_code=template_id,
            template_param=json.dumps(dict(pairs), ensure_ascii=False), out_id=str(message_id))
        self.pacer.wait()
        try:
            response = self.client.send_sms_with_options(request, self.options)
        except Exception as exc:  # the SDK raises Tea exceptions of several families
            return self._failure(message_id, to, exc)
        code = response.body.code or ""
        if code == "OK":
            return SendResult("queued", provider_sid=response.body.biz_id)
        return self._refusal(code, response.body.message or "")

    def _refusal(self, code: str, message: str) -> SendResult:
        if code in LATER:
            return SendResult("retry", error_code=code[:16], error=f"{code}: {message}", retry_after=LATER[code])
        return SendResult("failed", error_code=code[:16], error=f"{code}: {message}")

    def _failure(self, message_id: int, to: str, exc: Exception) -> SendResult:
        code = str(getattr(exc, "code", "") or "")
        status = getattr(exc, "status_code", None)
        if status is not None and status < 500 and code:  # the API answered: a refusal, nothing sent
            return self._refusal(code, str(getattr(exc, "message", "") or exc))
        if never_connected(exc):
            log.warning("aliyun unreachable message_id=%s to=%s: %s", message_id, mask(to), exc.__class__.__name__)
            return SendResult("retry", error="network: 无法连接阿里云短信接口")
        log.warning("aliyun send outcome unknown message_id=%s to=%s: %s", message_id, mask(to), exc.__class__.__name__)
        return SendResult("unknown", error_code=(code or (str(status) if status else "timeout"))[:16],
                          error="发送结果未知（超时或服务端错误），等待状态报告或查询，不重发")

    def query(self, message_id: int, to: str, provider_sid: str | None, sent_at) -> Settled | None:
        """QuerySendDetails for the phone on the day of the send (Beijing date), matched on OutId."""
        day = to_local(sent_at)
        for date in {day.strftime("%Y%m%d"), (day - timedelta(minutes=10)).strftime("%Y%m%d")}:
            request = sms_models.QuerySendDetailsRequest(phone_number=aliyun_phone(to), send_date=date, page_size=50,
                                                         current_page=1, biz_id=provider_sid or None)
            try:
                response = self.client.query_send_details_with_options(request, self.options)
            except Exception as exc:
                log.warning("aliyun query failed message_id=%s: %s", message_id, exc.__class__.__name__)
                return None
            if (response.body.code or "") != "OK":
                return None
            dtos = response.body.sms_send_detail_dtos
            for detail in (dtos.sms_send_detail_dto if dtos else None) or []:
                if str(detail.out_id or "") == str(message_id):
                    status = SEND_STATUS.get(int(detail.send_status or 1), "queued")
                    failed = status == "undelivered"
                    return Settled(status, provider_sid, (detail.err_code or "")[:16] if failed else None,
                                   detail.err_code or "" if failed else "")
        return Settled("absent")
