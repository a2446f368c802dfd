"""Microsoft Teams' Workflows webhooks: the message as an Adaptive Card."""
from __future__ import annotations

from alerts.models import NotificationChannel
from alerts.notifications import Channel, register
from alerts.notifications.base import post
from alerts.notifications.message import Message


def send(channel: NotificationChannel, message: Message) -> None:
    """An Adaptive Card, what Teams' Workflows webhooks take."""
    card = {"type": "AdaptiveCard", "version": "1.4", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "body": [{"type": "TextBlock", "text": message.title, "weight": "bolder", "wrap": True},
                     {"type": "TextBlock", "text": message.text.split("\n", 1)[-1], "wrap": True}]}
    post(channel.full_settings.get("url", ""), json={"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}]})


register(Channel("teams", "Microsoft Teams", frozenset({"url"}), send, secrets=frozenset({"url"})))
