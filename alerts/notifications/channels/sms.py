"""SMS through a Twilio-style HTTP API: a form POST per recipient, HTTP basic auth with account and token."""
from __future__ import annotations

import re
from typing import Any

from alerts.models import NotificationChannel
from alerts.notifications import Channel, register
from alerts.notifications.base import post, recipients_problems
from alerts.notifications.message import Message
from wardsite.text import quote

SMS_MAX = 320  # characters: two SMS segments
_E164 = re.compile(r"\+[1-9]\d{6,14}")


def send(channel: NotificationChannel, message: Message) -> None:
    """One message to every number of `to`."""
    settings = channel.full_settings
    for number in settings["to"]:
        post(settings.get("url", ""), data={"To": number, "From": settings["from"], "Body": message.text[:SMS_MAX]},
             auth=(settings["account"], channel.secret))


def check(settings: dict[str, Any]) -> list[str]:
    """Numbers in international format, and the provider's account."""
    problems = recipients_problems(settings.get("to"), "to", _phone)
    problems += [f"from: {p}" for p in _phone(settings.get("from"))]
    if not isinstance(settings.get("account"), str) or not settings.get("account"):
        problems.append("account: the provider's account ID is required")
    return problems


def _phone(value: Any) -> list[str]:
    if not isinstance(value, str) or not _E164.fullmatch(value):
        return [f"{quote(value)} is not a phone number in international format, e.g. +4915112345678"]
    return []


register(Channel("sms", "SMS (Twilio-style API)", frozenset({"url", "account", "from", "to"}), send, check,
                 secrets=frozenset({"url"})))
