"""One answer for every error: JSON {"error": "…"} under /api, a short Chinese page in the console.
A bad parameter is a 400 that says what was wrong; anything unexpected is logged (with its
traceback, phones masked) and answered with a 500 that leaks nothing. Provider webhooks keep
their own behaviour: a 500 there makes the provider retry, which is what keeps a message."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from .params import BadParam

log = logging.getLogger(__name__)

HTTP_WORDS = {
    400: "请求有误", 401: "需要登录或令牌", 403: "无权访问", 404: "页面或记录不存在", 405: "不支持该请求方法",
    413: "请求内容过大", 429: "请求过于频繁，请稍后再试", 500: "服务器内部错误，已记录，请稍后再试",
}


def _answer(status: int, message: str):
    if request.path.startswith("/api/"):
        return jsonify({"error": message}), status
    return render_template("console/error.html", status=status, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(BadParam)
    def bad_param(exc: BadParam):
        return _answer(400, str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if not (request.path.startswith("/api/") or request.path.startswith("/console")):
            return exc
        words = HTTP_WORDS.get(exc.code or 500, exc.name)
        # abort(400, "表单已过期…") carries its own Chinese description; Werkzeug's English ones do not.
        description = exc.description if exc.description and not exc.description.isascii() else words
        return _answer(exc.code or 500, description)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if request.path.startswith("/twilio/"):
            raise exc
        log.exception("unhandled error path=%s", request.path)
        return _answer(500, HTTP_WORDS[500])
