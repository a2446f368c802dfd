"""Choices of the alerts app. Severities are templates_app's (templates_app.choices.Severity); channel kinds are
the channels registered in alerts.notifications."""
from django.db import models


class AlertStatus(models.TextChoices):
    """Where an alert is in its life: pending (holding, not yet for long enough), firing, resolved."""

    PENDING = "pending", "Pending"
    FIRING = "firing", "Firing"
    RESOLVED = "resolved", "Resolved"

    @classmethod
    def open(cls) -> list[str]:
        return [cls.PENDING, cls.FIRING]


class DeliveryEvent(models.TextChoices):
    """Why a notification was sent."""

    FIRING = "firing", "Firing"
    RESOLVED = "resolved", "Resolved"
    REPEAT = "repeat", "Repeat"
    ESCALATION = "escalation", "Escalation"
    FLAPPING = "flapping", "Flapping"
    TEST = "test", "Test"


class DeliveryStatus(models.TextChoices):
    """What came of one delivery attempt."""

    SENT = "sent", "Sent"
    RETRYING = "retrying", "Failed, will retry"
    FAILED = "failed", "Failed"


class ClaimState(models.TextChoices):
    """Where one notification stands: being sent by a worker, waiting for its next attempt, or done."""

    SENDING = "sending", "Being sent"
    RETRYING = "retrying", "Failed, will retry"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Suppression(models.TextChoices):
    """Why nobody is told that an alert fires (blank: people are told); the alert's suppression_detail names whom."""

    MAINTENANCE = "maintenance", "Maintenance window"
    DEVICE_DOWN = "device_down", "Device down"
    PARENT_DOWN = "parent_down", "A device it depends on is down"
    RECOVERING = "recovering", "Device just back up"
    PARENT_RECOVERING = "parent_recovering", "A device it depends on just came back"
    FLAPPING = "flapping", "Flapping"
    AT_SOURCE = "at_source", "Suppressed at its source (Zabbix)"


class AlertSource(models.TextChoices):
    """Who raised the alert: our engine (from a rule) or a Zabbix server (a problem, kept in step by the bridge)."""

    LOCAL = "local", "WARD FLUX"
    ZABBIX = "zabbix", "Zabbix"
