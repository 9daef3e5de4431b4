"""Logging: module loggers, key=value messages, phone numbers masked at the call sites."""
from __future__ import annotations

import logging
import os

_configured = False


def configure_logging(default: str = "WARNING") -> None:
    """One-off commands log warnings; long-running processes pass default="INFO"."""
    global _configured
    level = os.environ.get("GRIDLINE_LOG_LEVEL", default).upper()
    if not _configured:
        _configured = True
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger().setLevel(getattr(logging, level, logging.WARNING))
    logging.getLogger("alembic").setLevel(logging.WARNING)
