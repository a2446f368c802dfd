"""Alert rules, their alerts, the channels notifications go to and what was delivered; maintenance windows."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from croniter import croniter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from alerts.choices import AlertSource, AlertStatus, ClaimState, DeliveryEvent, DeliveryStatus, Suppression
from alerts.maintenance import INSTANT, MaintenanceQuerySet, Span
from alerts.notifications import channel_kinds, secret_settings, settings_problems
from alerts.series import unknown_metrics
from devices.models import Device
from templates_app.choices import Severity
from wardsite.expressions import ExpressionError, held_for, metrics, parse
from wardsite.outbound import url_shown
from wardsite.secrets import SecretField, SecretJSONField, UnreadableSecret
from wardsite.text import quote

MAX_MINUTES = 7 * 1440
# Labels every series has; an alert's subject adds the first other one (ifName, a sensor's name...).
SERIES_LABELS = frozenset({"device_id", "device", "ip", "index"})


class NotificationChannel(models.Model):
    """A destination for notifications: an email list, a chat or generic webhook, or an SMS provider."""

    name = models.CharField(max_length=100, unique=True, help_text="What rules call it by, e.g. 'noc-email'.")
    kind = models.CharField(max_length=10, choices=channel_kinds)  # the registered channels
    enabled = models.BooleanField(default=True, help_text="A disabled channel is skipped.")
    settings = models.JSONField(default=dict, blank=True,
                                help_text="The kind's settings, e.g. {\"url\": \"https://...\"} for chats and "
                                          "webhooks, {\"to\": [\"noc@example.com\"]} for email; see docs/alerts.md. "
                                          "Those carrying tokens (url of chats, webhooks and SMS; webhook headers) "
                                          "are moved to the encrypted secret settings when saved; left out, the "
                                          "stored ones are kept.")
    secret_settings = SecretJSONField(
        blank=True,
        help_text="The settings that carry tokens, stored encrypted and never shown: only a URL's scheme and host "
                  "and the header names are.")
    secret = SecretField(max_length=1000, blank=True,
                         help_text="SMTP password, SMS API token or webhook bearer token (stored encrypted, "
                                   "never shown).")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def clean(self) -> None:
        problems = settings_problems(self.kind, self.full_settings)
        if not isinstance(self.secret_settings, dict):  # left out of an imported configuration, set later
            problems = [p for p in problems if p.split(":")[0] not in secret_settings(self.kind)]
        if problems:
            raise ValidationError({"settings": problems})

    def save(self, *args, **kwargs) -> None:
        """The kind's secret settings go to `secret_settings` (encrypted), whichever of the two they were given in."""
        if isinstance(self.settings, dict):
            full, secret = self.full_settings, secret_settings(self.kind)
            self.settings = {key: value for key, value in full.items() if key not in secret}
            given = {key: value for key, value in full.items() if key in secret}
            if given or not isinstance(self.secret_settings, UnreadableSecret):  # else kept for its key's return
                self.secret_settings = given
        super().save(*args, **kwargs)

    @property
    def full_settings(self) -> dict[str, Any]:
        """Every setting, the encrypted ones too (one given anew in `settings` wins): what a delivery uses."""
        stored = self.secret_settings if isinstance(self.secret_settings, dict) else {}
        secret = secret_settings(self.kind)
        given = self.settings if isinstance(self.settings, dict) else {}
        return {**{key: value for key, value in stored.items() if key in secret}, **given}

    def secrets_shown(self) -> dict[str, Any]:
        """What may be shown of the stored secret settings: a URL's scheme and host, the names of headers."""
        stored = self.secret_settings if isinstance(self.secret_settings, dict) else {}
        return {key: url_shown(value) if key == "url" else
                {name: "…" for name in value} if isinstance(value, dict) else "…"
                for key, value in sorted(stored.items())}


class AlertRule(models.Model):
    """A condition on series in VictoriaMetrics, evaluated per device and labels; see docs/alerts.md."""

    name = models.CharField(max_length=200, unique=True)
    expression = models.TextField(
        help_text='e.g. avg(cpu_usage) > 90 for 5m, or snmp_if_oper_status{ifName=~"Gi.*"} == 2')
    recovery_expression = models.TextField(
        blank=True, help_text="Optional hysteresis: a firing alert resolves only when this holds "
                              "(e.g. avg(cpu_usage) < 80).")
    for_seconds = models.PositiveIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(7 * 86400)],
        help_text="How long the expression must hold before the alert fires (or write 'for 5m' in it).")
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    enabled = models.BooleanField(default=True)
    description = models.TextField(blank=True)
    runbook_url = models.URLField(blank=True, help_text="What the on-call engineer should read.")
    devices = models.ManyToManyField("devices.Device", blank=True, related_name="alert_rules",
                                     help_text="Scope: these devices. A rule without any scope covers every device.")
    groups = models.ManyToManyField("devices.DeviceGroup", blank=True, related_name="alert_rules",
                                    help_text="Scope: the devices of these groups.")
    tags = models.ManyToManyField("devices.Tag", blank=True, related_name="alert_rules",
                                  help_text="Scope: devices with any of these tags.")
    templates = models.ManyToManyField("templates_app.MonitoringTemplate", blank=True, related_name="alert_rules",
                                       help_text="Scope: the devices these templates are applied to.")
    channels = models.ManyToManyField(NotificationChannel, blank=True, related_name="rules",
                                      help_text="Told when an alert fires and when it resolves.")
    repeat_minutes = models.PositiveIntegerField(
        default=0, validators=[MaxValueValidator(MAX_MINUTES)],
        help_text="Notify again every this many minutes while firing and unacknowledged; 0: never.")
    escalate_after_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(MAX_MINUTES)],
        help_text="Notify the escalation channels too if still unacknowledged after this many minutes.")
    escalation_channels = models.ManyToManyField(NotificationChannel, blank=True, related_name="escalating_rules")
    builtin = models.CharField(
        max_length=50, unique=True, null=True, blank=True, editable=False,
        help_text="Set on the rules WARD FLUX ships (e.g. device-down); recreated at migrate if deleted: disable "
                  "one instead.")
    template_trigger = models.OneToOneField(
        "templates_app.TemplateTrigger", null=True, blank=True, on_delete=models.CASCADE, related_name="rule",
        help_text="Made from this template trigger: its condition follows the template; channels, enabled, scope "
                  "additions and per-device overrides are yours.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = _expression_errors(self, ("expression", "recovery_expression"))
        if self.expression.strip() and "expression" not in errors:
            if held_for(parse(self.expression)) is not None and self.for_seconds is not None:
                errors["for_seconds"] = "the expression already says 'for': give the duration in one place"
        if errors:
            raise ValidationError(errors)


def _expression_errors(obj: models.Model, fields: tuple[str, ...]) -> dict[str, str]:
    """Blank is fine here (required fields say so themselves); else it must parse and name series that exist.
    A recovery expression has no `for`."""
    errors: dict[str, str] = {}
    for field in fields:
        text = getattr(obj, field)
        if not text.strip():
            continue
        try:
            condition = parse(text)
        except ExpressionError as exc:
            errors[field] = str(exc)
            continue
        unknown = unknown_metrics(metrics(condition))
        if unknown:
            errors[field] = f"unknown metric {', '.join(map(repr, unknown))}: no poller, item or template item writes it"
        elif field == "recovery_expression" and held_for(condition) is not None:
            errors[field] = "a recovery expression has no 'for': the alert resolves as soon as it holds"
    return errors


class RuleOverride(models.Model):
    """A rule changed for one device: another threshold (a whole expression of its own), or off."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="overrides")
    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="rule_overrides")
    enabled = models.BooleanField(default=True, help_text="Off: the rule never alerts for this device.")
    expression = models.TextField(blank=True, help_text="Used for this device instead of the rule's, e.g. with "
                                                         "another threshold; blank: the rule's.")
    recovery_expression = models.TextField(blank=True, help_text="Blank: the rule's.")

    class Meta:
        ordering = ["rule", "device"]
        constraints = [models.UniqueConstraint(fields=["rule", "device"], name="%(app_label)s_%(class)s_unique")]

    def __str__(self) -> str:
        return f"{self.rule} on {self.device}"

    def clean(self) -> None:
        errors = _expression_errors(self, ("expression", "recovery_expression"))
        if errors:
            raise ValidationError(errors)


class Alert(models.Model):
    """One alert of a rule for one series (device and labels): pending, then firing, then resolved.

    At most one open (pending or firing) alert exists per rule and series; the engine claims each transition with
    a conditional UPDATE, so concurrent evaluators never duplicate an alert or its notifications.
    """

    rule = models.ForeignKey(AlertRule, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts",
                             help_text="The rule that raised it; empty for an alert from another source (Zabbix).")
    source = models.CharField(max_length=10, choices=AlertSource.choices, default=AlertSource.LOCAL,
                              help_text="Who raised it: our engine, or a Zabbix server (kept in step by the bridge).")
    name = models.CharField(max_length=255, blank=True,
                            help_text="What it is about when it has no rule: the Zabbix problem's name.")
    detail = models.CharField(max_length=255, blank=True, help_text="Operational data shown with a Zabbix problem.")
    external_url = models.URLField(max_length=500, blank=True,
                                   help_text="Where its source shows it, e.g. the problem in Zabbix's frontend.")
    device = models.ForeignKey("devices.Device", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="alerts")
    fingerprint = models.CharField(max_length=64, help_text="Hash of the series' labels: one open alert per value.")
    labels = models.JSONField(default=dict, help_text="The series' labels (device_id, device, ifName, ...).")
    status = models.CharField(max_length=10, choices=AlertStatus.choices, default=AlertStatus.PENDING)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    value = models.FloatField(null=True, blank=True, help_text="The latest value seen while open.")
    first_value = models.FloatField(null=True, blank=True, help_text="The value when the condition began to hold.")
    pending_since = models.DateTimeField(help_text="When the condition began to hold.")
    triggered_at = models.DateTimeField(null=True, blank=True, help_text="When the alert fired.")
    resolved_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="acknowledged_alerts")
    acknowledgement = models.TextField(blank=True, help_text="The comment given when acknowledging.")
    last_seen_at = models.DateTimeField(help_text="When the condition was last seen holding.")
    notified_at = models.DateTimeField(null=True, blank=True,
                                       help_text="When the rule's channels were last told it fires (for repeats).")
    escalated_at = models.DateTimeField(null=True, blank=True, help_text="When the escalation channels were told.")
    suppression = models.CharField(max_length=20, choices=Suppression.choices, blank=True,
                                   help_text="Why nobody is told it fires; blank: people are told.")
    suppression_detail = models.CharField(max_length=300, blank=True,
                                          help_text="The suppression in words, e.g. 'core-1 is down (edge-1 depends "
                                                    "on it)'.")

    class Meta:
        ordering = ["-pending_since"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "fingerprint"], name="%(app_label)s_%(class)s_one_open",
                                    condition=Q(status__in=AlertStatus.open())),
            models.CheckConstraint(condition=Q(source=AlertSource.LOCAL, rule__isnull=False)
                                   | (~Q(source=AlertSource.LOCAL) & ~Q(name="")),
                                   name="%(app_label)s_%(class)s_rule_or_name"),
        ]
        indexes = [models.Index(fields=["status", "rule"]), models.Index(fields=["source", "status"])]

    def __str__(self) -> str:
        return f"{self.title} on {self.subject} ({self.get_status_display()})"

    @property
    def title(self) -> str:
        """The rule's name, or the name the other source gave it."""
        return self.rule.name if self.rule_id else self.name

    @property
    def subject(self) -> str:
        """What the alert is about: the device (WARD FLUX itself for a series of no device), and the interface or
        table row when the series has one."""
        name = (self.labels.get("device") or getattr(self, "device_name", None)  # the API annotates the name
                or (self.device.name if self.device else "WARD FLUX"))
        detail = next((self.labels[k] for k in ("ifName", *sorted(self.labels)) if k in self.labels
                       and k not in SERIES_LABELS), "")
        return f"{name} {detail}".strip()


class Delivery(models.Model):
    """One attempt to deliver one notification on one channel, whatever came of it."""

    alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries",
                              help_text="Empty for a test notification.")
    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=10, choices=DeliveryEvent.choices)
    attempt = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(help_text="How long the attempt took.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.get_event_display()} via {self.channel.name}: {self.get_status_display()}"


class DeliveryClaim(models.Model):
    """One notification (an alert event on a channel, as queued once), claimed before it is sent so that a task
    delivered twice (a worker lost, a broker restarted) sends it once (see alerts/notifications/claims.py)."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="delivery_claims")
    channel = models.ForeignKey(NotificationChannel, on_delete=models.CASCADE, related_name="delivery_claims")
    event = models.CharField(max_length=10, choices=DeliveryEvent.choices)
    task_id = models.CharField(max_length=255, help_text="The Celery task delivering it: the same when the task is "
                                                         "delivered again or retried, so it names this notification.")
    state = models.CharField(max_length=10, choices=ClaimState.choices, default=ClaimState.SENDING)
    attempt = models.PositiveSmallIntegerField(default=1, help_text="The attempt that holds or last held the claim.")
    claimed_at = models.DateTimeField(help_text="When the attempt began; a claim being sent for longer than "
                                                "DELIVERY_CLAIM_TIMEOUT_SECONDS is taken for a dead worker's.")

    class Meta:
        ordering = ["-claimed_at"]
        constraints = [models.UniqueConstraint(fields=["alert", "channel", "event", "task_id"],
                                               name="%(app_label)s_%(class)s_once")]

    def __str__(self) -> str:
        return f"{self.get_event_display()} of alert {self.alert_id} via channel {self.channel_id}: {self.state}"


class MaintenanceWindow(models.Model):
    """A time when devices are worked on: their alerts are suppressed (not sent), or not even evaluated."""

    name = models.CharField(max_length=200, unique=True)
    starts_at = models.DateTimeField(help_text="Start (of the first occurrence, for a recurring window).")
    ends_at = models.DateTimeField(null=True, blank=True,
                                   help_text="End of a one-off window; for a recurring one, when it stops recurring.")
    recurrence = models.CharField(max_length=100, blank=True,
                                  help_text="Cron expression in TIME_ZONE, e.g. '0 2 * * 6' (Saturdays 02:00); "
                                            "blank: once.")
    duration_minutes = models.PositiveIntegerField(null=True, blank=True, validators=[MaxValueValidator(MAX_MINUTES)],
                                                   help_text="How long each occurrence of a recurring window lasts.")
    devices = models.ManyToManyField("devices.Device", blank=True, related_name="maintenance_windows",
                                     help_text="Scope: these devices. A window without any scope covers every device.")
    groups = models.ManyToManyField("devices.DeviceGroup", blank=True, related_name="maintenance_windows")
    tags = models.ManyToManyField("devices.Tag", blank=True, related_name="maintenance_windows")
    suppress_evaluation = models.BooleanField(
        default=False, help_text="Do not even evaluate rules for these devices (their open alerts resolve).")
    comment = models.TextField(blank=True)

    objects = MaintenanceQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]
        constraints = [  # as clean() says, for rows written without it: the engine reads every window's occurrences
            models.CheckConstraint(condition=Q(recurrence="") | Q(duration_minutes__isnull=False),
                                   name="%(app_label)s_%(class)s_recurring_has_duration"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.recurrence:
            if not croniter.is_valid(self.recurrence):
                raise ValidationError({"recurrence": f"{quote(self.recurrence)} is not a cron expression "
                                                     "(minute hour day-of-month month day-of-week)"})
            if not self.duration_minutes:
                raise ValidationError({"duration_minutes": "a recurring window needs a duration"})
        elif self.ends_at is None:
            raise ValidationError({"ends_at": "a one-off window needs an end"})
        if self.ends_at and self.starts_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "the end must be after the start"})

    def active_at(self, at: datetime) -> bool:
        return bool(self.occurrences(at, at + INSTANT))

    def occurrences(self, start: datetime, end: datetime) -> list[Span]:
        """When the window is active within [start, end): each occurrence of a recurring window (its cron times in
        TIME_ZONE, each lasting duration_minutes) or the one-off window, cut to the period and to the window's own
        start and end. A one-off window saved without an end (around validation) is open-ended."""
        first, last = max(start, self.starts_at), min(end, self.ends_at) if self.ends_at else end
        if first >= last:
            return []
        if not self.recurrence:
            return [(first, last)]
        length = timedelta(minutes=self.duration_minutes)
        times = croniter(self.recurrence, timezone.localtime(first - length))  # the first one still going at `first`
        found = []
        while (at := times.get_next(datetime)) < last:
            found.append((max(at, first), min(at + length, last)))
        return found


def scoped_devices(devices, groups, tags, also: Q | None = None) -> frozenset[int] | None:
    """Ids of the devices named, in the groups or with any of the tags (or matching `also`); None when nothing is
    named at all, which means every device. A rule's scope; maintenance windows scope alike, batched
    (MaintenanceWindow.objects.covering)."""
    if not (devices or groups or tags or also):
        return None
    covered = Q(pk__in=[d.pk for d in devices]) | Q(group__in=groups) | Q(tags__in=tags)
    return frozenset(Device.objects.filter(covered | also if also else covered).values_list("pk", flat=True))
