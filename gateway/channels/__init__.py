"""Inbound routes of the mainland SMS channels: Alibaba Cloud and Tencent Cloud pushes and SMS
Gateway for Android webhooks. Thin: check who pushes, store every item, answer; the workers do
the rest."""
from __future__ import annotations

from . import aliyun, android, tencent

blueprints = (aliyun.bp, tencent.bp, android.bp)
