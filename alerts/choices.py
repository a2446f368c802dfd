from django.db import models


class Severity(models.TextChoices):
    """How bad an alert is, most severe first (templates' triggers and alert rules share it)."""

    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"
    INFO = "info", "Info"
