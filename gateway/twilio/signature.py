"""X-Twilio-Signature checks over the public URL and every received parameter."""
from __future__ import annotations

from flask import Request
from twilio.request_validator import RequestValidator


def public_url(request: Request, base: str | None) -> str:
    """The URL Twilio signed: GRIDLINE_PUBLIC_URL + path + query behind a proxy, else the request URL."""
    if not base:
        return request.url.split("#", 1)[0]
    query = request.query_string.decode("latin-1")
    return f"{base}{request.path}" + (f"?{query}" if query else "")


class SignatureChecker:
    def __init__(self, auth_token: str, base_url: str | None):
        self.validator = RequestValidator(auth_token)
        self.base_url = base_url

    def valid(self, request: Request) -> bool:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature:
            return False
        return self.validator.validate(public_url(request, self.base_url), request.form, signature)
