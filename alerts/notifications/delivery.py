"""Send a message on a channel and record the attempt."""
from __future__ import annotations

import logging
import time

from alerts.choices import DeliveryStatus
from alerts.models import Delivery, NotificationChannel
from alerts.notifications import CHANNELS
from alerts.notifications.base import DeliveryError
from alerts.notifications.message import Message
from wardsite.secrets import SecretDecryptionError, require_readable

logger = logging.getLogger(__name__)


def deliver(channel: NotificationChannel, message: Message, *, attempt: int = 1, last_attempt: bool = True
            ) -> Delivery:
    """Send and record one attempt; a transient failure is recorded as retrying unless this is the last attempt."""
    started = time.monotonic()
    status, error = DeliveryStatus.SENT, ""
    try:
        _check_secrets(channel)
        CHANNELS[channel.kind].send(channel, message)
    except DeliveryError as exc:
        error = str(exc)
        status = DeliveryStatus.FAILED if exc.permanent or last_attempt else DeliveryStatus.RETRYING
        logger.warning("%s notification via %s, attempt %d: %s (%s)", message.event, channel.name, attempt, error,
                       status)
    else:
        logger.info("%s notification sent via %s", message.event, channel.name)
    return Delivery.objects.create(
        alert_id=message.alert_id, channel=channel, event=message.event, attempt=attempt, status=status,
        error=error, duration_ms=int((time.monotonic() - started) * 1000))


def _check_secrets(channel: NotificationChannel) -> None:
    """A permanent DeliveryError when a stored secret of the channel cannot be decrypted (a retry cannot help)."""
    try:
        require_readable(channel)
    except SecretDecryptionError as exc:
        raise DeliveryError(str(exc), permanent=True) from None
