from django.db import models


class Severity(models.TextChoices):
    """How bad an alert is, most severe first (templates' triggers and alert rules share it)."""

    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"
    INFO = "info", "Info"


class ChannelKind(models.TextChoices):
    """How a notification channel delivers."""

    EMAIL = "email", "Email (SMTP)"
    SLACK = "slack", "Slack"
    TEAMS = "teams", "Microsoft Teams"
    DISCORD = "discord", "Discord"
    WEBHOOK = "webhook", "Webhook (JSON)"
    SMS = "sms", "SMS (Twilio-style API)"


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
