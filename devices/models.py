"""The device inventory: what exists, how it is grouped, and its current reachability state."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from devices.choices import DeviceSource, DeviceState, DeviceType, MonitoringMode
from devices.reverse_dns import ptr_name
from devices.validators import normalize_address, validate_address


class Tag(models.Model):
    name = models.CharField(max_length=64, unique=True, help_text="Free-form label, e.g. 'core' or 'pci'.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DeviceGroup(models.Model):
    name = models.CharField(max_length=100, unique=True, help_text="Site or group name.")
    description = models.TextField(blank=True)
    poller_queue = models.CharField(
        max_length=100,
        blank=True,
        help_text="Celery queue whose workers poll this group's devices (a remote poller); blank = default queue.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DeviceQuerySet(models.QuerySet):
    def with_flap_count(self) -> DeviceQuerySet:
        """Annotate `flap_count`: state changes within the flapping window (FLAP_WINDOW_MINUTES).

        A subquery per row of the page (on the (device, at) index), not a join and GROUP BY over every device and
        its whole history: the cost follows the page, not the fleet."""
        since = timezone.now() - timedelta(minutes=settings.FLAP_WINDOW_MINUTES)
        changes = (DeviceStateChange.objects.filter(device=OuterRef("pk"), at__gte=since).order_by()
                   .values("device").annotate(n=Count("pk")).values("n"))
        return self.annotate(flap_count=Coalesce(Subquery(changes, output_field=models.IntegerField()), 0))


class Device(models.Model):
    name = models.CharField(
        max_length=128, unique=True, blank=True,
        help_text="Unique name, used as the `device` metric label. Left blank: the address's reverse DNS name, "
                  "else the address.",
    )
    address = models.CharField(
        max_length=255, validators=[validate_address], help_text="IPv4/IPv6 address or DNS name used to reach it."
    )
    device_type = models.CharField(max_length=20, choices=DeviceType.choices, default=DeviceType.OTHER)
    vendor = models.CharField(max_length=100, blank=True)
    model = models.CharField(max_length=100, blank=True)
    os_version = models.CharField("OS version", max_length=100, blank=True)
    serial_number = models.CharField(max_length=100, blank=True)
    location = models.CharField(max_length=200, blank=True, help_text="Where it is, e.g. 'DC1 row 3 rack 12'.")
    latitude = models.DecimalField(max_digits=8, decimal_places=6, null=True, blank=True,
                                   validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True,
                                    validators=[MinValueValidator(-180), MaxValueValidator(180)])
    description = models.TextField(blank=True)
    group = models.ForeignKey(
        DeviceGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="devices", help_text="Site or group."
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="devices")
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
        help_text="Upstream device this one is reached through (for dependencies).",
    )
    icmp_enabled = models.BooleanField("ICMP monitoring", default=True, help_text="Ping this device every cycle.")
    snmp_enabled = models.BooleanField("SNMP monitoring", default=False, help_text="Poll this device by SNMP.")
    snmp_port = models.PositiveIntegerField(
        "SNMP port", default=161, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    snmp_credential = models.ForeignKey(
        "snmp.SNMPCredential",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="devices",
        help_text="Credential used to poll this device by SNMP.",
    )
    source = models.CharField(
        max_length=10, choices=DeviceSource.choices, default=DeviceSource.LOCAL, editable=False,
        help_text="Who knows it: our inventory, a Zabbix server, or both. Set by the Zabbix bridge."
    )
    state = models.CharField(max_length=10, choices=DeviceState.choices, default=DeviceState.UNKNOWN, editable=False)
    state_since = models.DateTimeField(default=timezone.now, editable=False, help_text="When the state last changed.")
    last_seen = models.DateTimeField(null=True, blank=True, editable=False, help_text="Last successful reply.")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    objects = DeviceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=models.F("id")), name="%(app_label)s_%(class)s_not_own_parent"
            ),
            models.CheckConstraint(
                condition=Q(snmp_port__gte=1, snmp_port__lte=65535), name="%(app_label)s_%(class)s_snmp_port_range"
            ),
        ]
        indexes = [models.Index(fields=["state"], name="devices_device_state_idx")]  # state filters in admin/API

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.fill_default_name()  # for devices created without clean(): scripts, the shell, commands
        super().save(*args, **kwargs)

    def fill_default_name(self) -> None:
        """Name a device added with only an address: its reverse DNS name unless another device has that name
        (or there is none), else the address. Adding a device needs nothing more than an address."""
        if self.name or not self.address:
            return
        max_length = self._meta.get_field("name").max_length
        name = ptr_name(self.address) if settings.DEVICE_NAME_FROM_DNS else ""
        if not name or len(name) > max_length or Device.objects.exclude(pk=self.pk).filter(name=name).exists():
            name = self.address[:max_length]
        self.name = name

    def clean(self) -> None:
        if self.snmp_enabled and self.snmp_credential_id is None:
            raise ValidationError({"snmp_credential": "Choose the SNMP credential to poll this device with, "
                                                      "or switch SNMP monitoring off."})
        try:
            self.address = normalize_address(self.address)
        except ValidationError:
            pass  # the field's validator reports it, once (raising it here too showed it twice)
        else:
            self.fill_default_name()
        ancestor, seen = self.parent, set()
        while ancestor is not None and ancestor.pk not in seen:
            if self.pk is not None and ancestor.pk == self.pk:
                raise ValidationError({"parent": "A device cannot depend on itself, directly or through others."})
            seen.add(ancestor.pk)
            ancestor = ancestor.parent


class DeviceAddress(models.Model):
    """Another address a device answers on (found by discovery, or added by hand); its main one is Device.address."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="aliases")
    address = models.GenericIPAddressField(unique=True)
    note = models.CharField(max_length=200, blank=True, help_text="e.g. 'found by discovery rule lab'.")

    class Meta:
        ordering = ["device", "address"]
        verbose_name_plural = "device addresses"

    def __str__(self) -> str:
        return f"{self.address} ({self.device})"


class DeviceStateChange(models.Model):
    """One recorded transition of a device's state; written only by devices.services.set_state."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="state_changes")
    previous = models.CharField(max_length=10, choices=DeviceState.choices)
    new = models.CharField(max_length=10, choices=DeviceState.choices)
    at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=255, blank=True, help_text="Why, e.g. '3 failed ping cycles'.")

    class Meta:
        ordering = ["-at"]
        # serves the flapping count (device, at >= window start) and a device's history
        indexes = [models.Index(fields=["device", "at"], name="devices_statechange_dev_at_idx")]

    def __str__(self) -> str:
        return f"{self.device}: {self.previous} → {self.new} at {self.at:%Y-%m-%d %H:%M:%S}"


class MonitoringProfile(models.Model):
    """Which monitoring mode is in force; exactly one profile is active."""

    name = models.CharField(max_length=100, unique=True)
    mode = models.CharField(max_length=12, choices=MonitoringMode.choices, default=MonitoringMode.STANDALONE)
    is_active = models.BooleanField(default=True, help_text="Only one profile can be active.")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="%(app_label)s_%(class)s_one_active"
            ),
            models.CheckConstraint(
                condition=Q(mode__in=MonitoringMode.values), name="%(app_label)s_%(class)s_mode_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_mode_display()})"
