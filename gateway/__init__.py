"""Flask app: Twilio webhooks, health check, operator console and JSON API."""
from __future__ import annotations

import logging

from flask import Flask

from workers import runtime
from workers.settings import Settings, load_settings

from .logs import configure_logging


def create_app(settings: Settings | None = None, rules=None) -> Flask:
    settings = settings or load_settings()
    configure_logging()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        GRIDLINE_SETTINGS=settings,
        MAX_CONTENT_LENGTH=256 * 1024,
        JSON_AS_ASCII=False,
        TESTING=settings.testing,
    )
    app.extensions["gridline"] = runtime.init(settings, rules)

    from . import api, callbacks, channels, console, dashboard, errors, headers, health, metrics  # noqa: F401 (dashboard, callbacks: console routes)
    from .twilio import sms, voice

    app.register_blueprint(sms.bp)
    app.register_blueprint(voice.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(console.bp)
    app.register_blueprint(api.bp)
    for blueprint in channels.blueprints:  # Aliyun, Tencent and Android pushes
        app.register_blueprint(blueprint)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=bool(settings.public_url and settings.public_url.startswith("https")),
                      PERMANENT_SESSION_LIFETIME=8 * 3600)
    errors.register(app)
    headers.register(app, https=bool(settings.public_url and settings.public_url.startswith("https")))
    logging.getLogger(__name__).debug("app created database=%s", app.extensions["gridline"].db.dialect)
    return app


def current_runtime():
    from flask import current_app

    return current_app.extensions["gridline"]
