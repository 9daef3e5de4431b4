"""Local stand-ins for the mainland SMS providers: each accepts its SDK's real calls (the SDK's
endpoint is pointed at it) and builds pushes in the documented shapes (reference/channels-cn.md).
Scripted failures: "drop" (the connection closes before an answer: nothing was sent, but the caller
cannot know), "timeout" (the SMS is sent, the answer comes too late), "limit" (a rate limit
refusal); stop() and start() take the whole provider down and up again."""
from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class Stub:
    slow_seconds = 2.5

    def __init__(self):
        self.sent: list[dict] = []       # what really went out to handsets
        self.calls: list[dict] = []      # every API call, in order
        self.script: list = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status, body, delay = stub.handle(self.command, self.path, dict(self.headers), raw)
                if delay:
                    time.sleep(delay)
                if status is None:  # drop the connection
                    self.close_connection = True
                    return
                data = json.dumps(body, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json;charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass

            do_POST = do_GET = _serve

        self.handler = Handler
        self.server = None
        self.start()
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self, port: int = 0) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", port or getattr(self, "port", 0)), self.handler)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """The provider is down: nothing listens on its port until start()."""
        self.server.shutdown()
        self.server.server_close()

    def next_failure(self):
        return self.script.pop(0) if self.script else None

    def close(self):
        self.stop()


class AliyunStub(Stub):
    """dysmsapi.aliyuncs.com: SendSms and QuerySendDetails (RPC style, parameters in the query)."""

    def handle(self, method, path, headers, raw):
        action = headers.get("x-acs-action") or headers.get("X-Acs-Action")
        query = {k: v[0] for k, v in parse_qs(urlparse(path).query).items()}
        self.calls.append({"action": action, "query": query, "auth": headers.get("Authorization", "")})
        if action == "QuerySendDetails":
            details = [{"PhoneNum": s["PhoneNumbers"], "SendStatus": 3 if s.get("delivered") else 1,
                        "ErrCode": "DELIVERED" if s.get("delivered") else "", "TemplateCode": s["TemplateCode"],
                        "Content": "", "SendDate": "2026-11-18 10:00:01", "ReceiveDate": "", "OutId": s.get("OutId", "")}
                       for s in self.sent if s["PhoneNumbers"] == query.get("PhoneNumber")]
            return 200, {"Code": "OK", "Message": "OK", "RequestId": uuid.uuid4().hex, "TotalCount": len(details),
                         "SmsSendDetailDTOs": {"SmsSendDetailDTO": details}}, 0
        failure = self.next_failure()
        if failure == "drop":
            return None, None, 0
        if failure == "error":
            return 200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号", "RequestId": "r"}, 0
        if failure == "limit":
            return 200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发号码分钟级流控", "RequestId": "r"}, 0
        biz_id = f"{len(self.sent) + 900000}^0"
        self.sent.append(dict(query, biz_id=biz_id))
        body = {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": uuid.uuid4().hex}
        return 200, body, self.slow_seconds if failure == "timeout" else 0

    def up_item(self, phone: str, text: str, sequence_id=None) -> dict:
        return {"phone_number": phone, "content": text, "send_time": "2026-11-18 10:00:00", "dest_code": "1234",
                "sequence_id": sequence_id if sequence_id is not None else int(uuid.uuid4().int % 10**9),
                "sign_name": "网格通"}

    def report(self, sent: dict, success: bool = True) -> dict:
        return {"phone_number": sent["PhoneNumbers"], "send_time": "2026-11-18 10:00:01", "report_time": "2026-11-18 10:00:05",
                "success": success, "err_code": "DELIVERED" if success else "MK:0001", "err_msg": "用户接收成功" if success else "失败",
                "sms_size": "1", "biz_id": sent["biz_id"], "out_id": sent.get("OutId", "")}


class TencentStub(Stub):
    """sms.tencentcloudapi.com: SendSms and PullSmsSendStatusByPhoneNumber (JSON, TC3 signed)."""

    def handle(self, method, path, headers, raw):
        action = headers.get("X-TC-Action")
        body = json.loads(raw or b"{}")
        self.calls.append({"action": action, "body": body, "auth": headers.get("Authorization", "")})
        if action == "PullSmsSendStatusByPhoneNumber":
            found = [{"UserReceiveTime": "2026-11-18 10:00:05", "CountryCode": "86", "SubscriberNumber": s["PhoneNumberSet"][0][3:],
                      "PhoneNumber": s["PhoneNumberSet"][0], "SerialNo": s["sid"], "ReportStatus": "SUCCESS",
                      "Description": "用户短信送达成功", "SessionContext": s.get("SessionContext", "")}
                     for s in self.sent if s["PhoneNumberSet"][0] == body.get("PhoneNumber")]
            return 200, {"Response": {"PullSmsSendStatusSet": found, "RequestId": uuid.uuid4().hex}}, 0
        failure = self.next_failure()
        if failure == "drop":
            return None, None, 0
        if failure == "limit":
            return 200, {"Response": {"SendStatusSet": [{"SerialNo": "", "PhoneNumber": body["PhoneNumberSet"][0], "Fee": 0,
                                                          "SessionContext": "", "Code": "LimitExceeded.PhoneNumberThirtySecondLimit",
                                                          "Message": "30秒内限制", "IsoCode": "CN"}], "RequestId": "r"}}, 0
        sid = f"2433:{len(self.sent) + 100000}"
        self.sent.append(dict(body, sid=sid))
        answer = {"Response": {"SendStatusSet": [{"SerialNo": sid, "PhoneNumber": body["PhoneNumberSet"][0], "Fee": 1,
                                                  "SessionContext": body.get("SessionContext", ""), "Code": "Ok",
                                                  "Message": "send success", "IsoCode": "CN"}],
                               "RequestId": uuid.uuid4().hex}}
        return 200, answer, self.slow_seconds if failure == "timeout" else 0

    def reply(self, phone: str, text: str, when: int | None = None) -> dict:
        return {"extend": "", "mobile": phone.removeprefix("+86"), "nationcode": "86", "sign": "网格通",
                "text": text, "time": when or int(time.time())}

    def status(self, sent: dict, success: bool = True) -> dict:
        return {"user_receive_time": "2026-11-18 10:00:05", "nationcode": "86", "mobile": sent["PhoneNumberSet"][0][3:],
                "report_status": "SUCCESS" if success else "FAIL", "errmsg": "DELIVRD" if success else "MK:0001",
                "description": "用户短信送达成功" if success else "失败", "sid": sent["sid"]}


class AndroidStub(Stub):
    """The SMS Gateway for Android API (Local or Cloud server): POST /messages, GET /messages/{id}."""

    def handle(self, method, path, headers, raw):
        self.calls.append({"method": method, "path": path, "auth": headers.get("Authorization", ""),
                           "body": json.loads(raw) if raw else None})
        if method == "GET":
            message_id = path.rsplit("/", 1)[-1]
            found = next((s for s in self.sent if s["id"] == message_id), None)
            if found is None:
                return 404, {"message": "message not found"}, 0
            return 200, self._state(found, "Sent"), 0
        failure = self.next_failure()
        if failure == "drop":
            return None, None, 0
        message = json.loads(raw)
        self.sent.append(message)
        return 202, self._state(message, "Pending"), self.slow_seconds if failure == "timeout" else 0

    @staticmethod
    def _state(message, state):
        return {"id": message["id"], "state": state, "isHashed": False, "isEncrypted": False,
                "recipients": [{"phoneNumber": p, "state": state} for p in message["phoneNumbers"]]}

    def event(self, event: str, payload: dict, event_id: str | None = None) -> dict:
        return {"deviceId": "ffffffffceb0b1db0000018e937c815b", "event": event, "id": event_id or uuid.uuid4().hex,
                "payload": payload, "webhookId": "LreFUt-Z3sSq0JufY9uWB"}

    def received(self, phone: str, text: str, event_id: str | None = None) -> dict:
        return self.event("sms:received", {"messageId": "abc", "message": text, "phoneNumber": phone, "simNumber": 1,
                                           "receivedAt": "2026-11-18T10:00:00.000+08:00"}, event_id)
