"""Configuration from GRIDLINE_* / TWILIO_* environment variables.

Parsed once, strictly, into a frozen dataclass. A bad value raises ConfigError whose message is
one line naming the variable, so that every process fails at start with a clear reason.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import phonenumbers

from models.pooling import PoolSettings, pool_settings
from .channels import Channels, load_channels

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEV_ACCOUNT_SID = "AC" + "0" * 32
DEMO_TRAINING_AREA = "DH-S1-C1-PX"  # the demo district's training grid (models/demo)
DEMO_SHORT_NUMBER = "+8610690012345"
PROVIDERS = ("outbox", "twilio", "aliyun", "tencent", "android")


class ConfigError(Exception):
    """A configuration value is missing or malformed; str() is one line naming the variable."""


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    database_url: str
    redis_url: str | None  # None: embedded Redis in the instance folder
    rules_path: Path
    sms_provider: str
    short_number: str
    twilio_account_sid: str
    twilio_auth_token: str
    public_url: str | None
    secret_key: str
    lexicon_path: Path | None = None
    # True when TWILIO_AUTH_TOKEN is unset and the token is the one this instance generated.
    dev_twilio_token: bool = False
    training_areas: tuple[str, ...] = (DEMO_TRAINING_AREA,)
    health_max_wait_seconds: int = 120
    db_pool: PoolSettings = PoolSettings()
    channels: Channels = field(default_factory=Channels)  # Aliyun, Tencent, Android (workers.channels)
    testing: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def embedded_redis(self) -> bool:
        return self.redis_url is None

    @property
    def redis_socket(self) -> Path:
        return self.instance_path / "redis.sock"

    def replace(self, **changes) -> "Settings":
        from dataclasses import replace

        return replace(self, **changes)


def _instance_secret(instance_path: Path, name: str) -> str:
    """A random secret generated once into the instance folder (mode 600) and kept there; "" when
    the folder cannot hold it (then nothing signed with it is accepted)."""
    key_file = instance_path / name
    try:
        if key_file.exists():
            return key_file.read_text().strip()
        key = secrets.token_hex(32)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(key)
        return key
    except FileExistsError:  # another process wrote it just now
        return key_file.read_text().strip()
    except OSError:
        return ""


def _secret_key(instance_path: Path) -> str:
    return _instance_secret(instance_path, "secret_key") or secrets.token_hex(32)


def _check_url(name: str, value: str, schemes: tuple[str, ...]) -> str:
    scheme = urlparse(value).scheme.split("+")[0]
    if scheme not in schemes:
        raise ConfigError(f"{name}: expected a {'/'.join(schemes)} URL, got {value!r}")
    return value


def load_settings(env: dict[str, str] | None = None, **overrides) -> Settings:
    """Read settings from `env` (default os.environ); keyword overrides win."""
    env = dict(os.environ if env is None else env)
    instance_path = Path(env.get("GRIDLINE_INSTANCE_PATH") or PROJECT_ROOT / "instance").resolve()
    try:
        instance_path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"GRIDLINE_INSTANCE_PATH: cannot create {instance_path}: {exc.strerror}")

    database_url = env.get("GRIDLINE_DATABASE_URL") or f"sqlite:///{instance_path / 'gridline.db'}"
    _check_url("GRIDLINE_DATABASE_URL", database_url, ("sqlite", "postgresql", "postgres"))
    from models.db import normalise_url

    database_url = normalise_url(database_url)

    redis_url = env.get("GRIDLINE_REDIS_URL") or None
    if redis_url:
        _check_url("GRIDLINE_REDIS_URL", redis_url, ("redis", "rediss", "unix"))
        if redis_url.startswith("redis+sentinel://"):
            from .redis_conn import parse_sentinel_url

            try:
                parse_sentinel_url(redis_url)
            except ValueError as exc:
                raise ConfigError(f"GRIDLINE_REDIS_URL: {exc}") from None

    rules_path = Path(env.get("GRIDLINE_RULES") or PROJECT_ROOT / "routing_rules.yaml")
    if not rules_path.is_file():
        raise ConfigError(f"GRIDLINE_RULES: no rules file at {rules_path}")

    provider = (env.get("GRIDLINE_SMS_PROVIDER") or "outbox").strip().lower()
    if provider not in PROVIDERS:
        raise ConfigError(f"GRIDLINE_SMS_PROVIDER: must be one of {', '.join(PROVIDERS)}, got {provider!r}")

    short_number = env.get("GRIDLINE_SHORT_NUMBER") or DEMO_SHORT_NUMBER
    short_number = _normalise_short_number(short_number)

    account_sid = env.get("TWILIO_ACCOUNT_SID") or ""
    auth_token = env.get("TWILIO_AUTH_TOKEN") or ""
    if provider == "twilio":
        if not account_sid.startswith("AC") or len(account_sid) != 34:
            raise ConfigError("TWILIO_ACCOUNT_SID: required with GRIDLINE_SMS_PROVIDER=twilio (AC + 32 hex digits)")
        if not auth_token:
            raise ConfigError("TWILIO_AUTH_TOKEN: required with GRIDLINE_SMS_PROVIDER=twilio")
    account_sid = account_sid or DEV_ACCOUNT_SID
    # No public default token: without TWILIO_AUTH_TOKEN, webhooks accept only signatures made
    # with a token this instance generated (what `gridline sms simulate` signs with).
    dev_token = not auth_token
    auth_token = auth_token or _instance_secret(instance_path, "twilio_dev_token")

    training = env.get("GRIDLINE_TRAINING_AREAS")
    training_areas = tuple(c.strip() for c in (DEMO_TRAINING_AREA if training is None else training).split(",")
                           if c.strip())
    max_wait = env.get("GRIDLINE_HEALTH_MAX_WAIT") or "120"
    if not max_wait.isdigit() or int(max_wait) < 1:
        raise ConfigError(f"GRIDLINE_HEALTH_MAX_WAIT: seconds (a whole number, 1 or more) expected, got {max_wait!r}")

    public_url = (env.get("GRIDLINE_PUBLIC_URL") or "").rstrip("/") or None
    if public_url:
        _check_url("GRIDLINE_PUBLIC_URL", public_url, ("http", "https"))

    secret_key = env.get("GRIDLINE_SECRET_KEY") or _secret_key(instance_path)

    lexicon = Path(env["GRIDLINE_LEXICON"]) if env.get("GRIDLINE_LEXICON") else None
    if lexicon is not None and not lexicon.is_file():
        raise ConfigError(f"GRIDLINE_LEXICON: no lexicon file at {lexicon} (make one with gridline classifier learn)")

    try:
        db_pool = pool_settings(env)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    channels, problems = load_channels(env, provider)
    if problems:  # every mistake at once, one line each
        raise ConfigError("\n".join(problems))

    settings = Settings(
        instance_path=instance_path,
        database_url=database_url,
        redis_url=redis_url,
        rules_path=rules_path,
        sms_provider=provider,
        short_number=short_number,
        twilio_account_sid=account_sid,
        twilio_auth_token=auth_token,
        public_url=public_url,
        secret_key=secret_key,
        lexicon_path=lexicon,
        dev_twilio_token=dev_token,
        training_areas=training_areas,
        health_max_wait_seconds=int(max_wait),
        db_pool=db_pool,
        channels=channels,
    )
    return settings.replace(**overrides) if overrides else settings


def _normalise_short_number(raw: str) -> str:
    """A short number may be a service number (10690...) or a full E.164 number."""
    raw = raw.strip()
    digits = raw.lstrip("+")
    if not digits.isdigit() or not 3 <= len(digits) <= 20:
        raise ConfigError(f"GRIDLINE_SHORT_NUMBER: digits (optionally with a leading +) expected, got {raw!r}")
    try:
        number = phonenumbers.parse(raw, "CN")
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    return raw
