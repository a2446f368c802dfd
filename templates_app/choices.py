"""Choices of the templates app: where a template came from, and how bad a trigger's problem is."""
from django.db import models


class TemplateOrigin(models.TextChoices):
    """Where a template came from."""

    BUILTIN = "builtin", "Default library"
    LOCAL = "local", "Local"
    ZABBIX = "zabbix", "Imported from Zabbix"


class Severity(models.TextChoices):
    """How bad a problem is, most severe first: templates' triggers own it, alert rules and alerts take it over."""

    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"
    INFO = "info", "Info"
