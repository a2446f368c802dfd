"""SNMP credentials; secrets are encrypted at rest and never shown back."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from snmp.choices import AuthProtocol, IfStatus, PrivProtocol, SNMPVersion, ValueType
from snmp.validators import access_problems, label_problems, validate_metric_name, validate_oid, value_map_problems
from wardsite.secrets import SecretField

SECRET_FIELDS = ("community", "auth_key", "priv_key")


class SNMPCredential(models.Model):
    """A reusable set of SNMP access parameters (v1/v2c community or v3 USM user)."""

    name = models.CharField(max_length=100, unique=True)
    version = models.CharField(max_length=3, choices=SNMPVersion.choices, default=SNMPVersion.V2C)
    community = SecretField(max_length=255, blank=True, help_text="v1/v2c community (stored encrypted).")
    security_name = models.CharField(max_length=100, blank=True, help_text="v3 USM user name.")
    auth_protocol = models.CharField(max_length=8, choices=AuthProtocol.choices, blank=True, default="")
    auth_key = SecretField(max_length=255, blank=True, help_text="v3 authentication passphrase (stored encrypted).")
    priv_protocol = models.CharField(max_length=10, choices=PrivProtocol.choices, blank=True, default="")
    priv_key = SecretField(max_length=255, blank=True, help_text="v3 privacy passphrase (stored encrypted).")
    context_name = models.CharField(max_length=100, blank=True, help_text="v3 context name (optional).")
    timeout_ms = models.PositiveIntegerField(
        default=2000, validators=[MinValueValidator(1), MaxValueValidator(30_000)],
        help_text="Timeout per request in milliseconds (30,000 at most).")
    retries = models.PositiveSmallIntegerField(default=1, validators=[MaxValueValidator(10)],
                                               help_text="Retries after a timeout (10 at most).")

    class Meta:
        verbose_name = "SNMP credential"
        ordering = ["name"]
        # sending a stored credential to an address a user names (SNMP test, ad-hoc scan) is a right of its own
        permissions = [("use_snmpcredential", "Can use credentials in tests and scans")]
        constraints = [
            models.CheckConstraint(
                condition=Q(version__in=SNMPVersion.values), name="%(app_label)s_%(class)s_version_valid"
            ),
            models.CheckConstraint(
                condition=Q(priv_protocol="") | ~Q(auth_protocol=""), name="%(app_label)s_%(class)s_priv_needs_auth"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_version_display()})"

    def clean(self) -> None:
        """The checks a client target makes (snmp.validators.access_problems), as errors on their fields."""
        problems = access_problems(self)
        if problems:
            raise ValidationError(problems)


# What an operator may change on an item a template created, kept when the template is applied again.
OVERRIDABLE_FIELDS = ("interval_seconds", "enabled", "units")


class MonitoringItem(models.Model):
    """One SNMP value polled from one device on its own interval."""

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="snmp_items")
    name = models.CharField(max_length=255, help_text="Unique on the device, e.g. cpu_usage or storage_used[/var].")
    metric = models.CharField(
        max_length=100, blank=True, validators=[validate_metric_name],
        help_text="Its series name in VictoriaMetrics, e.g. cpu_usage (labelled device_id, device and `labels`).",
    )
    labels = models.JSONField(default=dict, blank=True, help_text='Extra series labels, e.g. {"cpu": "1"}.')
    oid = models.CharField("OID", max_length=255, validators=[validate_oid], help_text="Numeric OID, e.g. 1.3.6.1.2.1.1.3.0.")
    interval_seconds = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(1), MaxValueValidator(86400)], help_text="Seconds between polls."
    )
    value_type = models.CharField(max_length=10, choices=ValueType.choices, default=ValueType.FLOAT)
    units = models.CharField(max_length=20, blank=True, help_text="e.g. %, bytes, bps.")
    enabled = models.BooleanField(default=True)
    value_map = models.JSONField(default=dict, blank=True, help_text='Raw value -> number stored, e.g. {"on": 1}.')
    template_item = models.ForeignKey(
        "templates_app.TemplateItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="device_items",
        editable=False, help_text="The template item it was created from, if any.")
    overrides = models.JSONField(default=list, blank=True, editable=False,
                                 help_text="Fields changed on this device that re-applying the template keeps.")
    next_due_at = models.DateTimeField(default=timezone.now, editable=False, help_text="When it is next polled.")
    last_polled_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_value = models.CharField(max_length=255, blank=True, editable=False,
                                  help_text="Latest value as read (counters: the raw counter).")
    last_error = models.CharField(max_length=255, blank=True, editable=False,
                                  help_text="Why the latest poll gave no value, e.g. noSuchObject.")

    class Meta:
        verbose_name = "SNMP item"
        ordering = ["device", "name"]
        constraints = [
            models.UniqueConstraint(fields=["device", "name"], name="%(app_label)s_%(class)s_unique_device_name"),
            models.UniqueConstraint(fields=["device", "oid"], name="%(app_label)s_%(class)s_unique_device_oid"),
            models.CheckConstraint(condition=~Q(metric=""), name="%(app_label)s_%(class)s_metric_set"),
        ]

    def __str__(self) -> str:
        return f"{self.device}: {self.name} ({self.oid})"

    def clean(self) -> None:
        """Labels and value map as the poller needs them (a bad one would fail its whole batch); the series name."""
        errors = {name: problems for name, problems in (
            ("labels", label_problems(self.labels)), ("value_map", value_map_problems(self.value_map))) if problems}
        if not self.metric and self.name:  # a hand-made item's series is named like the item unless told otherwise
            try:
                validate_metric_name(self.name)
                self.metric = self.name
            except ValidationError as exc:
                errors["name"] = exc.messages + ["(or give the series a separate metric name)"]
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs) -> None:
        self.metric = self.metric or self.name  # clean() checked that the name can be a series name
        super().save(*args, **kwargs)


class Interface(models.Model):
    """A device interface as discovered from IF-MIB ifTable/ifXTable."""

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="interfaces")
    if_index = models.PositiveIntegerField("ifIndex")
    name = models.CharField("ifName", max_length=255, blank=True)
    descr = models.CharField("ifDescr", max_length=255, blank=True)
    alias = models.CharField("ifAlias", max_length=255, blank=True)
    if_type = models.PositiveIntegerField("ifType", null=True, blank=True, help_text="IANAifType number, e.g. 6 = ethernet.")
    speed_bps = models.PositiveBigIntegerField("speed (bit/s)", null=True, blank=True, help_text="From ifHighSpeed or ifSpeed.")
    admin_status = models.PositiveSmallIntegerField(choices=IfStatus.choices, null=True, blank=True)
    oper_status = models.PositiveSmallIntegerField(choices=IfStatus.choices, null=True, blank=True)
    last_change_ticks = models.PositiveBigIntegerField(null=True, blank=True, help_text="ifLastChange (sysUpTime ticks).")
    hc_counters = models.BooleanField(
        "64-bit counters", default=False, editable=False,
        help_text="The agent has usable ifXTable HC (64-bit) counters for it; else the 32-bit ifTable ones are polled.",
    )
    enabled = models.BooleanField(default=True, help_text="Poll this interface's counters.")
    updated = models.DateTimeField(auto_now=True, help_text="When discovery last refreshed this row.")

    class Meta:
        ordering = ["device", "if_index"]
        constraints = [
            models.UniqueConstraint(fields=["device", "if_index"], name="%(app_label)s_%(class)s_unique_device_ifindex"),
        ]

    def __str__(self) -> str:
        return f"{self.device}: {self.name or self.descr or self.if_index}"


class SNMPStatus(models.Model):
    """A device's SNMP schedule, reachability and system facts (its series live in VictoriaMetrics)."""

    device = models.OneToOneField("devices.Device", primary_key=True, on_delete=models.CASCADE,
                                  related_name="snmp_status")
    next_due_at = models.DateTimeField(default=timezone.now, help_text="When the dispatcher next hands it out.")
    scheduled_at = models.DateTimeField(null=True, blank=True,
                                        help_text="When the poll now running was due (for the poll delay metric).")
    interfaces_due_at = models.DateTimeField(default=timezone.now, help_text="When interface counters are next due.")
    discovered_at = models.DateTimeField(null=True, blank=True, help_text="When interfaces were last discovered.")
    checked_at = models.DateTimeField(null=True, blank=True, help_text="When the last poll finished.")
    reachable = models.BooleanField(null=True, help_text="Whether the last poll got an answer (empty: never polled).")
    consecutive_failures = models.PositiveIntegerField(default=0, help_text="Failed polls in a row (backs off).")
    error = models.CharField(max_length=500, blank=True, help_text="Why the last poll failed.")
    sys_descr = models.TextField("sysDescr", blank=True)
    sys_object_id = models.CharField("sysObjectID", max_length=255, blank=True)
    sys_name = models.CharField("sysName", max_length=255, blank=True)
    uptime_seconds = models.PositiveBigIntegerField(null=True, blank=True, help_text="sysUpTime at the last poll.")

    class Meta:
        verbose_name = "SNMP status"
        verbose_name_plural = "SNMP status"
        indexes = [models.Index(fields=["next_due_at"], name="snmp_snmpstatus_due_idx")]

    def __str__(self) -> str:
        state = {True: "reachable", False: "unreachable", None: "not polled yet"}[self.reachable]
        return f"{self.device}: SNMP {state}"
