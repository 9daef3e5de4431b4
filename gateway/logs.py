"""Logging: module loggers, key=value messages, and no personal data in any line.

Every handler on the root logger (and gunicorn's error and access logs, see GunicornLogger)
carries PrivacyFilter: phone numbers are masked (+86138****5678) and the values of query
parameters that carry phones or residents' words (phone, q, text, notes, From, To, Body) or the
callback secret (token) are dropped from request lines. A process configures logging once; a later create_app keeps the
level the process chose (a worker's INFO lines stay visible).
"""
from __future__ import annotations

import logging
import os
import re

_configured_level: int | None = None

# +8613812345678, 8613812345678, 13812345678 (CN mobiles) and other E.164 numbers.
PHONE = re.compile(r"(?<![\d*])(\+?86)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)|(?<![\w*])\+(\d{1,5})\d{4,}(\d{4})(?!\d)")
PRIVATE_QUERY = re.compile(r"([?&](?:phone|q|text|notes|from|to|body|Body|From|To|token)=)[^&\s\"']*", re.IGNORECASE)


def mask_text(text: str) -> str:
    def phone(m: re.Match) -> str:
        if m.group(2):
            return f"{m.group(1) or ''}{m.group(2)}****{m.group(4)}"
        return f"+{m.group(5)}****{m.group(6)}"

    return PHONE.sub(phone, PRIVATE_QUERY.sub(r"\1***", text))


class PrivacyFilter(logging.Filter):
    """Rewrites the record's message with phones masked and private query values dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: let the handler report it as logging does
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        return True


PRIVACY = PrivacyFilter()


def guard_handlers(logger: logging.Logger) -> None:
    for handler in logger.handlers:
        if PRIVACY not in handler.filters:
            handler.addFilter(PRIVACY)


def configure_logging(default: str | None = None) -> None:
    """Long-running processes pass default="INFO" before anything else; one-off commands and
    create_app pass nothing: WARNING unless the process chose already (GRIDLINE_LOG_LEVEL wins)."""
    global _configured_level
    if _configured_level is None:
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if default is not None or _configured_level is None:
        name = os.environ.get("GRIDLINE_LOG_LEVEL", default or "WARNING").upper()
        _configured_level = getattr(logging, name, logging.WARNING)
    logging.getLogger().setLevel(_configured_level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    guard_handlers(logging.getLogger())
    for name in ("werkzeug", "rq.worker", "gunicorn.error", "gunicorn.access"):
        logger = logging.getLogger(name)
        guard_handlers(logger)
        if PRIVACY not in logger.filters:  # records logged here directly, before any handler of theirs
            logger.addFilter(PRIVACY)


try:
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover - gunicorn is a dependency, but the web app runs without it
    _GunicornLogger = object


class GunicornLogger(_GunicornLogger):
    """gunicorn's logger with PrivacyFilter on its error and access handlers (--logger-class)."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        guard_handlers(self.error_log)
        guard_handlers(self.access_log)
