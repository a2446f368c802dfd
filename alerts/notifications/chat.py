"""Slack, Microsoft Teams and Discord incoming webhooks: the same message in each one's JSON shape."""
from __future__ import annotations

from alerts.models import NotificationChannel
from alerts.notifications.base import post
from alerts.notifications.message import Message

DISCORD_MAX = 2000  # characters a Discord message may have


def send_slack(channel: NotificationChannel, message: Message) -> None:
    post(channel.settings["url"], json={"text": message.text})


def send_teams(channel: NotificationChannel, message: Message) -> None:
    """An Adaptive Card, what Teams' Workflows webhooks take."""
    card = {"type": "AdaptiveCard", "version": "1.4", "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "body": [{"type": "TextBlock", "text": message.title, "weight": "bolder", "wrap": True},
                     {"type": "TextBlock", "text": message.text.split("\n", 1)[-1], "wrap": True}]}
    post(channel.settings["url"], json={"type": "message", "attachments": [
        {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}]})


def send_discord(channel: NotificationChannel, message: Message) -> None:
    post(channel.settings["url"], json={"content": message.text[:DISCORD_MAX]})
