"""Notification channels: a registry of the kinds there are, each filled in by its module in `channels/`.

A channel module declares its kind, its name, the settings it takes, the check of their values and how it sends,
and registers that `Channel` here when imported; AlertsConfig.ready() imports every module of `channels/`. The
model's kind choices, its settings validation and delivery all look the kind up here, so adding a channel is
adding one module (docs/alerts.md, "Adding a channel").
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pkgutil import iter_modules
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from wardsite import outbound

if TYPE_CHECKING:  # both read alerts.models, which imports this module
    from alerts.models import NotificationChannel
    from alerts.notifications.message import Message


@dataclass(frozen=True)
class Channel:
    """One kind of channel: what its settings hold and how it sends."""

    kind: str  # stored in NotificationChannel.kind
    label: str  # what the admin and the API call it
    settings: frozenset[str]  # the settings it takes; anything else is refused, so a typo does not pass silently
    send: Callable[[NotificationChannel, Message], None]  # raises DeliveryError
    check: Callable[[dict[str, Any]], list[str]] | None = None  # problems of the values, each naming its key
    # settings that carry tokens (a Slack URL, an API key header): stored encrypted, never shown (docs/alerts.md)
    secrets: frozenset[str] = frozenset()


CHANNELS: dict[str, Channel] = {}


def register(channel: Channel) -> Channel:
    """Make a kind of channel known (each channel module calls this once, when imported)."""
    CHANNELS[channel.kind] = channel
    return channel


def load_channels() -> None:
    """Import every module of alerts/notifications/channels/, each registering its channel."""
    from alerts.notifications import channels

    for module in iter_modules(channels.__path__):
        import_module(f"{channels.__name__}.{module.name}")


def channel_kinds() -> list[tuple[str, str]]:
    """(kind, label) of every registered channel, by label: NotificationChannel.kind's choices."""
    return sorted(((c.kind, c.label) for c in CHANNELS.values()), key=lambda choice: choice[1].lower())


def secret_settings(kind: str) -> frozenset[str]:
    """The settings of a kind that are stored encrypted."""
    channel = CHANNELS.get(kind)
    return channel.secrets if channel else frozenset()


def settings_problems(kind: str, settings: Any) -> list[str]:
    """What is wrong with a channel's settings, each naming the key; [] when they are fine (or the kind is unknown:
    the kind's own choices refuse that)."""
    channel = CHANNELS.get(kind)
    if channel is None:
        return []
    if not isinstance(settings, dict):
        return ["settings must be a JSON object"]
    problems = [f"{key}: not a setting of a {kind} channel (it takes {', '.join(sorted(channel.settings))})"
                for key in sorted(set(settings) - channel.settings)]
    if "url" in channel.settings:
        problems += _url(settings.get("url"))
    return problems + (channel.check(settings) if channel.check else [])


def _url(value: Any) -> list[str]:
    """An http(s) URL the server may send to (wardsite/outbound.py); a name that does not resolve (yet) passes:
    it is checked again before every delivery."""
    try:
        URLValidator(schemes=["http", "https"])(value if isinstance(value, str) else "")
    except ValidationError:
        return ["url: an http:// or https:// URL is required"]
    try:
        outbound.check_url(value)
    except outbound.OutboundRefused as exc:
        return [f"url: {exc}"]
    except outbound.Unresolvable:
        pass
    return []
