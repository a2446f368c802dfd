"""Generic webhook: the message as JSON, or the channel's own body template."""
from __future__ import annotations

import json
from typing import Any

from alerts.models import NotificationChannel
from alerts.notifications import Channel, body_template, register
from alerts.notifications.base import DeliveryError, post
from alerts.notifications.message import Message


def render_body(template: str, message: Message) -> object:
    """The body template rendered with every field of the message as a JSON value, parsed as JSON.

    E.g. `{"text": {{ title }}, "level": {{ severity }}}`: placeholders give JSON (quoted strings, numbers, null),
    so the result is JSON whatever the values contain. ValueError if it is not, or if the template is refused or
    passes a limit (alerts.notifications.body_template).
    """
    rendered = body_template.render(template, {key: json.dumps(value) for key, value in message.as_json().items()})
    try:
        return json.loads(rendered)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the body template does not give JSON: {exc}") from None


def send(channel: NotificationChannel, message: Message) -> None:
    """The message as JSON (or the body template), with the secret as a bearer token."""
    settings = channel.full_settings
    try:
        body = render_body(settings["body"], message) if settings.get("body") else message.as_json()
    except ValueError as exc:
        raise DeliveryError(str(exc), permanent=True) from None
    headers = dict(settings.get("headers", {}))
    if channel.secret:
        headers["Authorization"] = f"Bearer {channel.secret}"
    post(settings.get("url", ""), json=body, headers=headers)


def check(settings: dict[str, Any]) -> list[str]:
    """The body template must give JSON; headers are names to texts."""
    problems = _body(settings.get("body", ""))
    headers = settings.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        problems.append('headers: an object of header names to text values, e.g. {"X-Team": "noc"}')
    return problems


def _body(template: Any) -> list[str]:
    if not isinstance(template, str):
        return ["body: a JSON body template, as text"]
    try:
        if template:
            render_body(template, Message.test("check"))
    except ValueError as exc:
        return [f"body: {exc}"]
    return []


register(Channel("webhook", "Webhook (JSON)", frozenset({"url", "body", "headers"}), send, check,
                 secrets=frozenset({"url", "headers"})))
