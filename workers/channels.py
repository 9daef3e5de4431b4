"""The mainland SMS channels (Alibaba Cloud, Tencent Cloud, an office's Android phone): their
settings, read from GRIDLINE_* variables and checked all at once, so that a process refuses to
start with one clear line per mistake.

Each channel is configured when its credentials are set; its inbound routes are live only then
(Aliyun and Tencent pushes also need GRIDLINE_CALLBACK_TOKEN, since they sign nothing).
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlparse

TEMPLATE_PROVIDERS = ("aliyun", "tencent")  # send approved templates, never free text
CHANNELS = ("aliyun", "tencent", "android")
MIN_TOKEN_CHARS = 16


@dataclass(frozen=True)
class Aliyun:
    access_key_id: str
    access_key_secret: str
    sign_name: str
    endpoint: str = "dysmsapi.aliyuncs.com"  # GRIDLINE_ALIYUN_ENDPOINT: a stand-in in tests
    protocol: str = "https"


@dataclass(frozen=True)
class Tencent:
    secret_id: str
    secret_key: str
    app_id: str
    sign_name: str
    endpoint: str = "sms.tencentcloudapi.com"  # GRIDLINE_TENCENT_ENDPOINT
    scheme: str = "https"
    region: str = "ap-guangzhou"


@dataclass(frozen=True)
class Android:
    url: str | None       # the app's send API (Local: http://phone:8080, Cloud: https://api.sms-gate.app/3rdparty/v1)
    username: str | None
    password: str | None
    signing_key: str | None  # webhook signatures; without it /sms/android answers 404

    @property
    def can_send(self) -> bool:
        return bool(self.url and self.username and self.password)


@dataclass(frozen=True)
class Channels:
    callback_token: str | None = None
    callback_allow: tuple = ()  # ip networks; empty: any source
    aliyun: Aliyun | None = None
    tencent: Tencent | None = None
    android: Android | None = None

    def receives(self, name: str) -> bool:
        """Is the inbound route of this channel live?"""
        if name == "android":
            return bool(self.android and self.android.signing_key)
        return bool(self.callback_token and getattr(self, name, None))

    def sends(self, name: str) -> bool:
        if name == "android":
            return bool(self.android and self.android.can_send)
        return getattr(self, name, None) is not None


def _endpoint(raw: str) -> tuple[str, str]:
    """'http://127.0.0.1:9000' -> ('127.0.0.1:9000', 'http'); a bare host means https."""
    if "://" in raw:
        parsed = urlparse(raw)
        return parsed.netloc, parsed.scheme
    return raw, "https"


def load_channels(env: dict, provider: str) -> tuple[Channels, list[str]]:
    """(channels, problems): each problem is one line naming its variable."""
    problems: list[str] = []

    def get(name: str) -> str:
        return (env.get(name) or "").strip()

    def group(names: tuple[str, ...], label: str) -> dict[str, str] | None:
        values = {n: get(n) for n in names}
        given = [n for n, v in values.items() if v]
        if not given:
            return None
        missing = [n for n in names if not values[n]]
        for name in missing:
            problems.append(f"{name}: required when {given[0]} is set ({label})")
        return None if missing else values

    token = get("GRIDLINE_CALLBACK_TOKEN") or None
    if token is not None and (len(token) < MIN_TOKEN_CHARS or not re.fullmatch(r"[A-Za-z0-9._~-]+", token)):
        problems.append(f"GRIDLINE_CALLBACK_TOKEN: use at least {MIN_TOKEN_CHARS} letters, digits or -._~ "
                        "(it travels in the URL; e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))')")
        token = None
    allow = []
    for part in filter(None, (p.strip() for p in get("GRIDLINE_CALLBACK_ALLOW").split(","))):
        try:
            allow.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            problems.append(f"GRIDLINE_CALLBACK_ALLOW: {part!r} is not an address or CIDR such as 203.0.113.0/24")

    aliyun = None
    values = group(("GRIDLINE_ALIYUN_ACCESS_KEY_ID", "GRIDLINE_ALIYUN_ACCESS_KEY_SECRET", "GRIDLINE_ALIYUN_SIGN_NAME"),
                   "Alibaba Cloud SMS")
    if values:
        sign = values["GRIDLINE_ALIYUN_SIGN_NAME"]
        if not re.fullmatch(r"[A-Za-z0-9]{12,40}", values["GRIDLINE_ALIYUN_ACCESS_KEY_ID"]):
            problems.append("GRIDLINE_ALIYUN_ACCESS_KEY_ID: expected the AccessKey ID from the RAM console "
                            "(letters and digits, usually starting LTAI)")
        _check_sign("GRIDLINE_ALIYUN_SIGN_NAME", sign, problems)
        host, scheme = _endpoint(get("GRIDLINE_ALIYUN_ENDPOINT") or "dysmsapi.aliyuncs.com")
        aliyun = Aliyun(values["GRIDLINE_ALIYUN_ACCESS_KEY_ID"], values["GRIDLINE_ALIYUN_ACCESS_KEY_SECRET"],
                        sign.strip("【】"), host, scheme)

    tencent = None
    values = group(("GRIDLINE_TENCENT_SECRET_ID", "GRIDLINE_TENCENT_SECRET_KEY", "GRIDLINE_TENCENT_SMS_APP_ID",
                    "GRIDLINE_TENCENT_SIGN_NAME"), "Tencent Cloud SMS")
    if values:
        if not values["GRIDLINE_TENCENT_SECRET_ID"].startswith("AKID"):
            problems.append("GRIDLINE_TENCENT_SECRET_ID: expected the SecretId from 访问管理 > API密钥 (starts with AKID)")
        if not re.fullmatch(r"14\d{8}", values["GRIDLINE_TENCENT_SMS_APP_ID"]):
            problems.append("GRIDLINE_TENCENT_SMS_APP_ID: expected the SDK AppID of the SMS application "
                            f"(10 digits starting 14), got {values['GRIDLINE_TENCENT_SMS_APP_ID']!r}")
        _check_sign("GRIDLINE_TENCENT_SIGN_NAME", values["GRIDLINE_TENCENT_SIGN_NAME"], problems)
        host, scheme = _endpoint(get("GRIDLINE_TENCENT_ENDPOINT") or "sms.tencentcloudapi.com")
        tencent = Tencent(values["GRIDLINE_TENCENT_SECRET_ID"], values["GRIDLINE_TENCENT_SECRET_KEY"],
                          values["GRIDLINE_TENCENT_SMS_APP_ID"], values["GRIDLINE_TENCENT_SIGN_NAME"].strip("【】"),
                          host, scheme, get("GRIDLINE_TENCENT_REGION") or "ap-guangzhou")

    android = None
    url, user, password, key = (get(f"GRIDLINE_ANDROID_{n}") for n in ("URL", "USERNAME", "PASSWORD", "SIGNING_KEY"))
    if url or user or password or key:
        if url and urlparse(url).scheme not in ("http", "https"):
            problems.append(f"GRIDLINE_ANDROID_URL: expected an http(s) URL such as http://192.168.1.20:8080, got {url!r}")
        sending = {"GRIDLINE_ANDROID_URL": url, "GRIDLINE_ANDROID_USERNAME": user, "GRIDLINE_ANDROID_PASSWORD": password}
        if any(sending.values()):
            for name, value in sending.items():
                if not value:
                    problems.append(f"{name}: required to send through the Android phone (set URL, USERNAME and PASSWORD together)")
        if key and len(key) < 8:
            problems.append("GRIDLINE_ANDROID_SIGNING_KEY: too short; paste the signing key shown in the app's settings")
        android = Android(url.rstrip("/") or None, user or None, password or None, key or None)

    channels = Channels(token, tuple(allow), aliyun, tencent, android)
    if provider in CHANNELS and not channels.sends(provider):
        needs = {"aliyun": "GRIDLINE_ALIYUN_ACCESS_KEY_ID, _ACCESS_KEY_SECRET and _SIGN_NAME",
                 "tencent": "GRIDLINE_TENCENT_SECRET_ID, _SECRET_KEY, _SMS_APP_ID and _SIGN_NAME",
                 "android": "GRIDLINE_ANDROID_URL, _USERNAME and _PASSWORD"}[provider]
        problems.append(f"GRIDLINE_SMS_PROVIDER: {provider} needs {needs}")
    return channels, problems


def _check_sign(name: str, sign: str, problems: list[str]) -> None:
    bare = sign.strip("【】[] ")
    if not 2 <= len(bare) <= 20:
        problems.append(f"{name}: the approved 签名 (2 to 20 characters, without 【】), got {sign!r}")
