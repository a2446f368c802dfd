"""Notification channels, one module per kind (email, chat, webhook, sms); here: what each kind's settings hold."""
from __future__ import annotations

import os
import re
import ssl
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator

from alerts.choices import ChannelKind

SMTP_SECURITY = ("none", "starttls", "tls")
_E164 = re.compile(r"\+[1-9]\d{6,14}")
# kind -> settings it takes (anything else is refused, so a typo does not pass silently)
ALLOWED = {
    ChannelKind.EMAIL: {"to", "from", "host", "port", "security", "username", "ca_file"},
    ChannelKind.SLACK: {"url"},
    ChannelKind.TEAMS: {"url"},
    ChannelKind.DISCORD: {"url"},
    ChannelKind.WEBHOOK: {"url", "body", "headers"},
    ChannelKind.SMS: {"url", "account", "from", "to"},
}


def settings_problems(kind: str, settings: Any) -> list[str]:
    """What is wrong with a channel's settings, each naming the key; [] when they are fine."""
    if not isinstance(settings, dict):
        return ["settings must be a JSON object"]
    problems = [f"{key}: not a setting of a {kind} channel (it takes {', '.join(sorted(ALLOWED[kind]))})"
                for key in sorted(set(settings) - ALLOWED[kind])]
    if "url" in ALLOWED[kind]:
        problems += _url(settings.get("url"))
    if kind == ChannelKind.EMAIL:
        problems += _list(settings.get("to"), "to", _email)
        if "from" in settings:
            problems += [f"from: {p}" for p in _email(settings["from"])]
        port = settings.get("port", 25)
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            problems.append("port: give a TCP port, 1 to 65535")
        if settings.get("security", "none") not in SMTP_SECURITY:
            problems.append(f"security: one of {', '.join(SMTP_SECURITY)}")
        if "ca_file" in settings:
            problems += [f"ca_file: {p}" for p in _ca_file(settings["ca_file"], settings.get("security", "none"))]
    elif kind == ChannelKind.SMS:
        problems += _list(settings.get("to"), "to", _phone)
        problems += [f"from: {p}" for p in _phone(settings.get("from"))]
        if not isinstance(settings.get("account"), str) or not settings.get("account"):
            problems.append("account: the provider's account ID is required")
    elif kind == ChannelKind.WEBHOOK:
        problems += _body(settings.get("body", ""))
        headers = settings.get("headers", {})
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            problems.append('headers: an object of header names to text values, e.g. {"X-Team": "noc"}')
    return problems


def _body(template: Any) -> list[str]:
    from alerts.notifications.message import Message  # these read alerts.models, which imports this module
    from alerts.notifications.webhook import render_body

    if not isinstance(template, str):
        return ["body: a JSON body template, as text"]
    try:
        if template:
            render_body(template, Message.test("check"))
    except ValueError as exc:
        return [f"body: {exc}"]
    return []


def _ca_file(path: Any, security: Any) -> list[str]:
    if security not in ("starttls", "tls"):
        return ["only used with TLS: set security to starttls or tls, or leave ca_file out"]
    if not isinstance(path, str) or not os.path.isabs(path):
        return [f"{path!r} is not an absolute path, e.g. /etc/ssl/private-ca.pem"]
    if not os.path.isfile(path) or not os.access(path, os.R_OK):
        return [f"{path} is not a readable file"]
    try:
        ssl.create_default_context(cafile=path)
    except ssl.SSLError:
        return [f"{path} holds no PEM CA certificate"]
    return []


def _url(value: Any) -> list[str]:
    try:
        URLValidator(schemes=["http", "https"])(value if isinstance(value, str) else "")
    except ValidationError:
        return ["url: an http:// or https:// URL is required"]
    return []


def _list(value: Any, key: str, check) -> list[str]:
    if not isinstance(value, list) or not value:
        return [f"{key}: a list with at least one recipient is required"]
    return [f"{key}[{i}]: {problem}" for i, item in enumerate(value) for problem in check(item)]


def _email(value: Any) -> list[str]:
    try:
        EmailValidator()(value if isinstance(value, str) else "")
    except ValidationError:
        return [f"{value!r} is not an email address"]
    return []


def _phone(value: Any) -> list[str]:
    if not isinstance(value, str) or not _E164.fullmatch(value):
        return [f"{value!r} is not a phone number in international format, e.g. +4915112345678"]
    return []
