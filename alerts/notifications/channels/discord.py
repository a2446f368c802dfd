"""Discord webhooks: the message as content, cut to what Discord takes."""
from __future__ import annotations

from alerts.models import NotificationChannel
from alerts.notifications import Channel, register
from alerts.notifications.base import post
from alerts.notifications.message import Message

DISCORD_MAX = 2000  # characters a Discord message may have


def send(channel: NotificationChannel, message: Message) -> None:
    post(channel.full_settings.get("url", ""), json={"content": message.text[:DISCORD_MAX]})


register(Channel("discord", "Discord", frozenset({"url"}), send, secrets=frozenset({"url"})))
