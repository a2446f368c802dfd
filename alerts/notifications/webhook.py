"""Generic webhook: the message as JSON, or the channel's own body template."""
from __future__ import annotations

import json

from django.template import Context, Engine, TemplateSyntaxError

from alerts.models import NotificationChannel
from alerts.notifications.base import DeliveryError, post
from alerts.notifications.message import Message

_ENGINE = Engine()


def render_body(template: str, message: Message) -> object:
    """The body template rendered with every field of the message as a JSON value, parsed as JSON.

    E.g. `{"text": {{ title }}, "level": {{ severity }}}`: placeholders give JSON (quoted strings, numbers, null),
    so the result is JSON whatever the values contain. ValueError if it is not.
    """
    try:
        rendered = _ENGINE.from_string(template).render(
            Context({key: json.dumps(value) for key, value in message.as_json().items()}, autoescape=False))
        return json.loads(rendered)
    except (TemplateSyntaxError, json.JSONDecodeError) as exc:
        raise ValueError(f"the body template does not give JSON: {exc}") from None


def send(channel: NotificationChannel, message: Message) -> None:
    settings = channel.settings
    try:
        body = render_body(settings["body"], message) if settings.get("body") else message.as_json()
    except ValueError as exc:
        raise DeliveryError(str(exc), permanent=True) from None
    headers = dict(settings.get("headers", {}))
    if channel.secret:
        headers["Authorization"] = f"Bearer {channel.secret}"
    post(settings["url"], json=body, headers=headers)
