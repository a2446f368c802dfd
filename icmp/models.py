"""ICMP settings per device or group, and each device's latest ping result and schedule."""
from __future__ import annotations

from dataclasses import dataclass, fields

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from devices.models import Device, DeviceGroup
from wardsite.numbers import LOSS_DECIMALS, RTT_DECIMALS, readable


@dataclass(frozen=True)
class EffectiveSettings:
    """What a ping cycle of one device uses after device > group > global defaults."""

    interval_seconds: int
    packets: int
    packet_interval_ms: int
    timeout_ms: int
    down_after: int

    @classmethod
    def defaults(cls) -> EffectiveSettings:
        return cls(
            interval_seconds=settings.ICMP_INTERVAL_SECONDS,
            packets=settings.ICMP_PACKETS,
            packet_interval_ms=settings.ICMP_PACKET_INTERVAL_MS,
            timeout_ms=settings.ICMP_TIMEOUT_MS,
            down_after=settings.ICMP_DOWN_AFTER,
        )


class PingSettings(models.Model):
    """Overrides of the global ICMP defaults for one device or for every device of a group."""

    device = models.OneToOneField(
        Device, null=True, blank=True, on_delete=models.CASCADE, related_name="ping_settings"
    )
    group = models.OneToOneField(
        DeviceGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="ping_settings"
    )
    interval_seconds = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(86400)], help_text="Seconds between ping cycles."
    )
    packets = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(100)], help_text="Echo requests per cycle."
    )
    packet_interval_ms = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(10000)], help_text="Milliseconds between the packets."
    )
    timeout_ms = models.PositiveIntegerField(
        validators=[MinValueValidator(10), MaxValueValidator(30000)], help_text="Milliseconds to wait for a reply."
    )
    down_after = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Consecutive failed cycles before the device is declared down.",
    )

    class Meta:
        verbose_name = "ping settings"
        verbose_name_plural = "ping settings"
        constraints = [
            models.CheckConstraint(
                condition=(Q(device__isnull=False) & Q(group__isnull=True))
                | (Q(device__isnull=True) & Q(group__isnull=False)),
                name="%(app_label)s_%(class)s_device_xor_group",
            ),
        ]

    def __str__(self) -> str:
        return f"Ping settings for {self.device or self.group}"

    def effective(self) -> EffectiveSettings:
        return EffectiveSettings(**{f.name: getattr(self, f.name) for f in fields(EffectiveSettings)})


class PingStatus(models.Model):
    """A device's latest ping cycle and when the next one is due (the series themselves live in VictoriaMetrics)."""

    device = models.OneToOneField(Device, primary_key=True, on_delete=models.CASCADE, related_name="ping_status")
    next_due_at = models.DateTimeField(default=timezone.now, help_text="When the dispatcher next sends a cycle.")
    checked_at = models.DateTimeField(null=True, blank=True, help_text="When the last cycle finished.")
    consecutive_failures = models.PositiveIntegerField(default=0)
    rtt_min_ms = models.FloatField(null=True, blank=True)
    rtt_avg_ms = models.FloatField(null=True, blank=True)
    rtt_max_ms = models.FloatField(null=True, blank=True)
    jitter_ms = models.FloatField(null=True, blank=True)
    packet_loss = models.FloatField(null=True, blank=True, help_text="Percent of packets lost in the last cycle.")
    error = models.CharField(max_length=255, blank=True, help_text="Local error of the last cycle, if any.")

    class Meta:
        verbose_name_plural = "ping status"
        # serves the dispatcher's "which devices are due" query
        indexes = [models.Index(fields=["next_due_at"], name="icmp_pingstatus_due_idx")]

    def __str__(self) -> str:
        if self.packet_loss is None:
            return f"{self.device}: not pinged yet"
        rtt = "" if self.rtt_avg_ms is None else f", rtt {readable(self.rtt_avg_ms, RTT_DECIMALS)} ms"
        return f"{self.device}: loss {readable(self.packet_loss, LOSS_DECIMALS)} %{rtt}"
