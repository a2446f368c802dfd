"""Discovery: rules saying what to scan and how, the runs of scans, what each address answered, and the identity
facts that tell a found host is a device we already have."""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from devices.choices import DeviceType
from discovery import limits
from discovery import targets as target_lists
from discovery.choices import AutoAdd, RunState
from wardsite.text import quote


def _validate_targets(value: str) -> None:
    try:
        target_lists.parse(value)
    except target_lists.TargetError as exc:
        raise ValidationError(str(exc)) from None


def _validate_ports(value: str) -> None:
    try:
        ports = parse_ports(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    if problem := limits.ports_problem(ports):
        raise ValidationError(problem)


def parse_ports(value: str) -> tuple[int, ...]:
    """'22, 80,443' -> (22, 80, 443); ValueError naming the bad item."""
    ports = []
    for item in filter(None, (part.strip() for part in (value or "").replace(";", ",").split(","))):
        if not item.isdigit() or not 1 <= int(item) <= 65535:
            raise ValueError(f"{quote(item)} is not a TCP port (1-65535)")
        ports.append(int(item))
    return tuple(dict.fromkeys(ports))


def _default_rate() -> int:
    return settings.DISCOVERY_RATE_LIMIT


class AllowedNetwork(models.Model):
    """A network scans may touch, beyond DISCOVERY_ALLOWED_NETWORKS; a scan outside all of them is refused."""

    network = models.CharField(max_length=50, unique=True, validators=[_validate_targets],
                               help_text="e.g. 198.51.100.0/24")
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["network"]

    def __str__(self) -> str:
        return self.network

    def clean(self) -> None:
        try:
            networks = target_lists.parse(self.network)
        except target_lists.TargetError:
            return  # the field's validator reports it, once
        if "-" in self.network:
            raise ValidationError({"network": "give a network (10.1.0.0/16) or an address, not a range"})
        if networks:
            self.network = str(networks[0])


class DiscoveryRule(models.Model):
    """What to scan, with which credentials and probes, how often, and what to do with new devices."""

    name = models.CharField(max_length=100, unique=True)
    enabled = models.BooleanField(default=True, help_text="A disabled rule is not scanned on its schedule.")
    targets = models.TextField(validators=[_validate_targets],
                               help_text="Networks (10.0.0.0/24), ranges (10.0.0.10-10.0.0.50) and addresses, IPv6 as "
                                         "explicit addresses; separated by commas or lines.")
    exclusions = models.TextField(blank=True, validators=[_validate_targets], help_text="Never probed; same syntax.")
    credentials = models.ManyToManyField("snmp.SNMPCredential", through="RuleCredential", blank=True,
                                         related_name="discovery_rules")
    icmp = models.BooleanField("ICMP sweep", default=True,
                               help_text="Ping every address first; off: every address counts as a candidate.")
    snmp_silent_hosts = models.BooleanField(
        "SNMP on ping-silent hosts", default=False,
        help_text="Also try SNMP on addresses that did not answer ping (for hosts that drop ICMP).")
    tcp_ports = models.CharField("TCP ports", max_length=200, blank=True, validators=[_validate_ports],
                                 help_text="Probed on ping-silent hosts, e.g. '22, 80, 443': a host accepting one is "
                                           "alive (DISCOVERY_MAX_TCP_PORTS ports at most).")
    rate_limit = models.PositiveIntegerField(
        "rate limit", default=_default_rate, validators=[MinValueValidator(1), limits.validate_rate],
        help_text="Packets per second at most (DISCOVERY_MAX_RATE the highest allowed).")
    auto_add = models.CharField(max_length=10, choices=AutoAdd.choices, default=AutoAdd.OFF)
    device_group = models.ForeignKey("devices.DeviceGroup", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="discovery_rules", help_text="Group of the devices it adds.")
    schedule = models.OneToOneField(
        "django_celery_beat.PeriodicTask", null=True, blank=True, editable=False, on_delete=models.SET_NULL,
        related_name="discovery_rule", help_text="When it runs (a crontab, editable in the admin).")
    last_run_at = models.DateTimeField(null=True, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        for field in ("targets", "exclusions"):
            try:
                networks = target_lists.parse(getattr(self, field))
            except target_lists.TargetError:
                continue  # the field's validator reports it, once
            if field == "targets":
                if not networks:
                    errors[field] = "give at least one network, range or address"
                else:
                    try:
                        target_lists.check_scan(networks)
                    except target_lists.ScanRefused as exc:
                        errors[field] = str(exc)
        if errors:
            raise ValidationError(errors)


class RuleCredential(models.Model):
    """A credential a rule tries, in `position` order (the first that answers wins)."""

    rule = models.ForeignKey(DiscoveryRule, on_delete=models.CASCADE, related_name="rule_credentials")
    credential = models.ForeignKey("snmp.SNMPCredential", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["rule", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["rule", "credential"], name="%(app_label)s_%(class)s_once")]

    def __str__(self) -> str:
        return f"{self.rule}: {self.credential} (#{self.position})"


class DiscoveryRun(models.Model):
    """One scan: of a rule, or ad hoc (targets and credentials given with the request)."""

    rule = models.ForeignKey(DiscoveryRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs")
    targets = models.TextField(help_text="What was scanned (the rule's targets at the time, or the ad-hoc ones).")
    exclusions = models.TextField(blank=True)
    credential_ids = models.JSONField(default=list, blank=True,
                                      help_text="Ad-hoc runs: ids of the SNMP credentials to try, in order.")
    state = models.CharField(max_length=10, choices=RunState.choices, default=RunState.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)], help_text="Percent.")
    addresses = models.PositiveIntegerField(default=0, help_text="Addresses to probe.")
    alive = models.PositiveIntegerField(default=0)
    snmp = models.PositiveIntegerField("SNMP", default=0, help_text="Addresses that answered SNMP.")
    new = models.PositiveIntegerField(default=0, help_text="Devices added.")
    updated = models.PositiveIntegerField(default=0, help_text="Existing devices found again (facts refreshed).")
    errors = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        constraints = [models.CheckConstraint(condition=Q(progress__lte=100),
                                              name="%(app_label)s_%(class)s_progress_percent")]

    def __str__(self) -> str:
        return f"{self.rule or 'ad hoc'} #{self.pk} ({self.get_state_display()})"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class DiscoveryResult(models.Model):
    """What one address answered in one run, how it was classified, and which device it is."""

    run = models.ForeignKey(DiscoveryRun, on_delete=models.CASCADE, related_name="results")
    ip = models.GenericIPAddressField("IP address")
    hostname = models.CharField(max_length=255, blank=True, help_text="From reverse DNS, if any.")
    alive = models.BooleanField(default=False, help_text="Answered ping or accepted a TCP port.")
    rtt_ms = models.FloatField("RTT (ms)", null=True, blank=True)
    open_ports = models.JSONField(default=list, blank=True)
    snmp_reachable = models.BooleanField("SNMP", default=False)
    credential = models.ForeignKey("snmp.SNMPCredential", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", help_text="The credential that worked.")
    sys_name = models.CharField("sysName", max_length=255, blank=True)
    sys_descr = models.TextField("sysDescr", blank=True)
    sys_object_id = models.CharField("sysObjectID", max_length=255, blank=True)
    sys_location = models.CharField("sysLocation", max_length=255, blank=True)
    uptime_seconds = models.PositiveBigIntegerField(null=True, blank=True, help_text="sysUpTime when found.")
    engine_id = models.CharField("snmpEngineID", max_length=130, blank=True)
    serial = models.CharField(max_length=100, blank=True)
    model = models.CharField(max_length=100, blank=True)
    macs = models.JSONField("MAC addresses", default=list, blank=True)
    neighbors = models.JSONField(default=list, blank=True, help_text="LLDP/CDP neighbours, kept for topology.")
    vendor = models.CharField(max_length=100, blank=True)
    device_type = models.CharField(max_length=20, choices=DeviceType.choices, default=DeviceType.OTHER)
    os = models.CharField("OS", max_length=100, blank=True)
    os_version = models.CharField("OS version", max_length=100, blank=True)
    matched_device = models.ForeignKey("devices.Device", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="discovery_results", help_text="The device this host is.")
    added_to_monitoring = models.BooleanField(default=False, help_text="This run added the device.")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "ip"], name="%(app_label)s_%(class)s_once_per_run")]

    def __str__(self) -> str:
        return f"{self.ip} {self.sys_name}".strip()


class DeviceIdentity(models.Model):
    """What identifies a device whatever address it answers on; refreshed by every scan that finds it."""

    device = models.OneToOneField("devices.Device", primary_key=True, on_delete=models.CASCADE,
                                  related_name="identity")
    engine_id = models.CharField("snmpEngineID", max_length=130, blank=True, db_index=True)
    serial = models.CharField(max_length=100, blank=True, db_index=True)
    sys_name = models.CharField("sysName", max_length=255, blank=True)
    macs = models.JSONField("MAC addresses", default=list, blank=True)
    sys_object_id = models.CharField("sysObjectID", max_length=255, blank=True)
    last_discovered_at = models.DateTimeField(null=True, blank=True, help_text="When a scan last found it.")

    class Meta:
        verbose_name_plural = "device identities"

    def __str__(self) -> str:
        return f"{self.device}: {self.engine_id or self.serial or self.sys_name or '?'}"
