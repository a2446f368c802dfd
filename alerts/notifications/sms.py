"""SMS through a Twilio-style HTTP API: a form POST per recipient, HTTP basic auth with account and token."""
from __future__ import annotations

from alerts.models import NotificationChannel
from alerts.notifications.base import post
from alerts.notifications.message import Message

SMS_MAX = 320  # characters: two SMS segments


def send(channel: NotificationChannel, message: Message) -> None:
    settings = channel.settings
    for number in settings["to"]:
        post(settings["url"], data={"To": number, "From": settings["from"], "Body": message.text[:SMS_MAX]},
             auth=(settings["account"], channel.secret))
