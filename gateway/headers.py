"""Security headers on every response: a content security policy (scripts only from us or with
this response's nonce), no framing, no MIME sniffing, HSTS over https, and no caching of pages
and API answers that carry residents' data."""
from __future__ import annotations

import secrets

from flask import Flask, g, request

PRIVATE_PREFIXES = ("/console", "/api/")


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def register(app: Flask, https: bool) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy",
                           "default-src 'self'; "
                           f"script-src 'self' 'nonce-{csp_nonce()}'; "
                           "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        if https or request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.path.startswith(PRIVATE_PREFIXES):
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        return response
