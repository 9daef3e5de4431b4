"""Tencent Cloud SMS (API 2021-01-11) through the official SDK.

An approved TemplateId plus TemplateParamSet (strings, in the template's {1} {2} ... order) and the
approved 签名; our message id travels as SessionContext. The status callback names the SerialNo
that SendSms returned; a send whose answer never came is settled with
PullSmsSendStatusByPhoneNumber, which echoes SessionContext. Not idempotent: like Aliyun, a
timeout or server error holds the message as `unknown`; only sure refusals are retried.
"""
from __future__ import annotations

import logging
from datetime import timedelta, timezone

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from models.phones import mask

from ..channels import Tencent
from .base import Pacer, Provider, SendResult, Settled, never_connected, no_template, template_values

log = logging.getLogger(__name__)
READ_TIMEOUT = 10  # seconds; after it a send's outcome is unknown
LATER = {"LimitExceeded.PhoneNumberThirtySecondLimit": 60, "LimitExceeded.PhoneNumberOneHourLimit": 900,
         "LimitExceeded.PhoneNumberDailyLimit": 3600, "LimitExceeded.DeliveryFrequencyLimit": 300,
         "LimitExceeded.PhoneNumberSameContentDailyLimit": 3600, "RequestLimitExceeded": 60,
         "FailedOperation.InsufficientBalanceInSmsPackage": 900}


class TencentProvider(Provider):
    name = "tencent"
    settle_by_query = True
    # The pull lists only sends that have a carrier report: wait long before calling one absent.
    absent_after = timedelta(hours=1)

    def __init__(self, config: Tencent, policy):
        super().__init__(policy)
        self.config = config
        http = HttpProfile(endpoint=config.endpoint, reqTimeout=READ_TIMEOUT)
        http.scheme = config.scheme
        self.client = sms_client.SmsClient(credential.Credential(config.secret_id, config.secret_key), config.region,
                                           ClientProfile(httpProfile=http))
        self.pacer = Pacer(3000)

    def send(self, message_id: int, to: str, body: str, template: str = "", params: dict | None = None) -> SendResult:
        values = template_values(self.policy, self.name, template, params)
        if values is None:
            return no_template(self.name, template)
        template_id, pairs = values
        request = models.SendSmsRequest()
        request.SmsSdkAppId, request.SignName, request.TemplateId = self.config.app_id, self.config.sign_name, template_id
        request.TemplateParamSet = [value for _, value in pairs]
        request.PhoneNumberSet = [to]
        request.SessionContext = str(message_id)
        self.pacer.wait()
        try:
            response = self.client.SendSms(request)
        except TencentCloudSDKException as exc:
            return self._failure(message_id, to, exc)
        status = (response.SendStatusSet or [None])[0]
        if status is None:
            return SendResult("unknown", error_code="empty", error="腾讯云未返回发送状态，等待状态回调或查询")
        if (status.Code or "") == "Ok":
            return SendResult("queued", provider_sid=status.SerialNo)
        return self._refusal(status.Code or "", status.Message or "")

    def _refusal(self, code: str, message: str) -> SendResult:
        if code in LATER:
            return SendResult("retry", error_code=code[-16:], error=f"{code}: {message}", retry_after=LATER[code])
        return SendResult("failed", error_code=code[-16:], error=f"{code}: {message}")

    def _failure(self, message_id: int, to: str, exc: TencentCloudSDKException) -> SendResult:
        code = exc.get_code() or ""
        if code == "ClientNetworkError" and never_connected(exc):
            log.warning("tencent unreachable message_id=%s to=%s", message_id, mask(to))
            return SendResult("retry", error="network: 无法连接腾讯云短信接口")
        if code in ("ClientNetworkError", "ServerNetworkError") or code.startswith("InternalError"):
            log.warning("tencent send outcome unknown message_id=%s to=%s code=%s", message_id, mask(to), code)
            return SendResult("unknown", error_code=code[-16:],
                              error="发送结果未知（超时或服务端错误），等待状态回调或查询，不重发")
        return self._refusal(code, str(exc.get_message() or ""))

    def query(self, message_id: int, to: str, provider_sid: str | None, sent_at) -> Settled | None:
        request = models.PullSmsSendStatusByPhoneNumberRequest()
        begin = sent_at.replace(tzinfo=timezone.utc) - timedelta(minutes=5)
        request.BeginTime, request.EndTime = int(begin.timestamp()), int((begin + timedelta(days=1)).timestamp())
        request.Offset, request.Limit = 0, 100
        request.PhoneNumber, request.SmsSdkAppId = to, self.config.app_id
        try:
            response = self.client.PullSmsSendStatusByPhoneNumber(request)
        except TencentCloudSDKException as exc:
            log.warning("tencent query failed message_id=%s code=%s", message_id, exc.get_code())
            return None
        for status in response.PullSmsSendStatusSet or []:
            if str(status.SessionContext or "") == str(message_id):
                ok = (status.ReportStatus or "").upper() == "SUCCESS"
                return Settled("delivered" if ok else "undelivered", status.SerialNo,
                               None if ok else (status.Description or "FAIL")[:16], "" if ok else status.Description or "")
        return Settled("absent")
