"""Monitoring templates, their items and triggers, and which devices they are applied to."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from snmp.choices import ValueType
from snmp.validators import validate_metric_name, validate_oid, value_map_problems
from templates_app.choices import Severity, TemplateOrigin
from templates_app.document import KEY, MAX_INTERVAL, DocumentError, parse_discovery


class MonitoringTemplate(models.Model):
    """What to collect from a kind of device and which triggers to watch (docs/templates.md)."""

    key = models.CharField(max_length=100, unique=True, validators=[RegexValidator(KEY)],
                           help_text="Stable identifier, e.g. cisco-ios.")
    name = models.CharField(max_length=200, unique=True)
    version = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    vendor = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    device_types = models.JSONField(default=list, blank=True, help_text="Device types it is meant for.")
    includes = models.JSONField(default=list, blank=True, help_text="Keys of templates applied together with it.")
    priority = models.IntegerField(default=0, help_text="Auto-selection picks the highest priority that matches.")
    match_sys_object_ids = models.JSONField(
        "sysObjectID prefixes", default=list, blank=True, help_text="Auto-select for devices under these OIDs.")
    match_sys_descr = models.JSONField(
        "sysDescr patterns", default=list, blank=True, help_text="Regular expressions, searched, case-insensitive.")
    origin = models.CharField(max_length=10, choices=TemplateOrigin.choices, default=TemplateOrigin.LOCAL)
    shipped_hash = models.CharField(max_length=64, blank=True, editable=False,
                                    help_text="Default templates: the shipped document's hash as last loaded.")
    available_version = models.PositiveIntegerField(
        null=True, blank=True, editable=False,
        help_text="A newer default version that was not loaded because this template was edited here.")
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TemplateItem(models.Model):
    """One value a template collects; with `discovery` it expands per interface or table row."""

    template = models.ForeignKey(MonitoringTemplate, on_delete=models.CASCADE, related_name="items")
    key = models.CharField(max_length=100, validators=[validate_metric_name], help_text="Series name, e.g. cpu_usage.")
    name = models.CharField(max_length=200, blank=True)
    oid = models.CharField("OID", max_length=255, validators=[validate_oid],
                           help_text="Scalar items: the instance to GET; discovery items: the column.")
    interval_seconds = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(1), MaxValueValidator(MAX_INTERVAL)])
    value_type = models.CharField(max_length=10, choices=ValueType.choices, default=ValueType.FLOAT)
    units = models.CharField(max_length=20, blank=True)
    value_map = models.JSONField(default=dict, blank=True, help_text='Raw value -> number, e.g. {"on": 1}.')
    enabled = models.BooleanField(default=True)
    discovery = models.JSONField(null=True, blank=True,
                                 help_text="Low-level discovery as in docs/templates.md, e.g. {\"interfaces\": true}.")

    def clean(self) -> None:
        errors = {"value_map": value_map_problems(self.value_map)}
        if self.discovery:
            try:
                parse_discovery(self.discovery)
            except DocumentError as exc:
                errors["discovery"] = exc.errors
        if any(errors.values()):
            raise ValidationError({name: problems for name, problems in errors.items() if problems})

    class Meta:
        ordering = ["template", "key"]
        constraints = [
            models.UniqueConstraint(fields=["template", "key"], name="%(app_label)s_%(class)s_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.template}: {self.key}"


class TemplateTrigger(models.Model):
    """A condition on a template's series; it becomes an alert rule for the devices the template is applied to."""

    template = models.ForeignKey(MonitoringTemplate, on_delete=models.CASCADE, related_name="triggers")
    name = models.CharField(max_length=200)
    expression = models.TextField()
    recovery_expression = models.TextField(blank=True, help_text="Optional: the alert resolves when this holds.")
    for_seconds = models.PositiveIntegerField(default=0, help_text="How long the expression must hold.")
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["template", "name"]
        constraints = [
            models.UniqueConstraint(fields=["template", "name"], name="%(app_label)s_%(class)s_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.template}: {self.name}"


class TemplateAssignment(models.Model):
    """A template applied to a device."""

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="template_assignments")
    template = models.ForeignKey(MonitoringTemplate, on_delete=models.CASCADE, related_name="assignments")
    auto = models.BooleanField(default=False, help_text="Chosen by auto-selection rather than by hand.")
    applied_version = models.PositiveIntegerField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True, help_text="Why the last application was incomplete.")

    class Meta:
        ordering = ["device", "template"]
        constraints = [
            models.UniqueConstraint(fields=["device", "template"], name="%(app_label)s_%(class)s_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.template} on {self.device}"
