"""Slack incoming webhooks: the message as text."""
from __future__ import annotations

from alerts.models import NotificationChannel
from alerts.notifications import Channel, register
from alerts.notifications.base import post
from alerts.notifications.message import Message


def send(channel: NotificationChannel, message: Message) -> None:
    post(channel.full_settings.get("url", ""), json={"text": message.text})


register(Channel("slack", "Slack", frozenset({"url"}), send, secrets=frozenset({"url"})))
