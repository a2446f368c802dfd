"""Why an alert that fires is not told: a maintenance window, its device or one it depends on down or just back,
or flapping. Each cause is a typed `Suppressed` (alerts.choices.Suppression and the words naming whom)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from alerts.choices import Suppression
from alerts.maintenance import Cover
from alerts.models import Alert, AlertRule, MaintenanceWindow
from devices.choices import DeviceState
from devices.models import Device, DeviceStateChange


@dataclass(frozen=True)
class Suppressed:
    """Why nobody is told: the kind of cause, and the cause in words (stored on the alert)."""

    reason: Suppression
    detail: str


def columns(why: Suppressed | None) -> dict[str, str]:
    """The alert's suppression fields for `why` (None: not suppressed)."""
    return {"suppression": why.reason if why else "", "suppression_detail": why.detail if why else ""}


@dataclass(frozen=True)
class Maintenance:
    """The maintenance windows active at one moment: devices whose alerts are quiet, or not even evaluated."""

    windows: tuple[Cover, ...]

    @classmethod
    def at(cls, at: datetime) -> Maintenance:
        return cls(tuple(MaintenanceWindow.objects.active_at(at)))

    def suppression(self, device_id: int | None) -> Suppressed | None:
        """The first window covering the device, if any."""
        return next((Suppressed(Suppression.MAINTENANCE, f"maintenance {cover.window.name!r}")
                     for cover in self.windows if cover.covers(device_id)), None)

    def quiet(self, device_id: int | None) -> bool:
        return any(cover.window.suppress_evaluation and cover.covers(device_id) for cover in self.windows)


def device_suppression(device: Device | None, reachability: bool, at: datetime) -> Suppressed | None:
    """Why an alert of this device is not worth telling: the device is down (unless the rule is about that), or a
    device it depends on (parent, grandparent...) is; or one of them came back less than ALERT_RECOVERY_GRACE_SECONDS
    ago, while the collectors catch up. None when none of this holds."""
    if device is None:
        return None
    chain, seen = [] if reachability else [device], {device.pk}
    ancestor = device.parent
    while ancestor is not None and ancestor.pk not in seen:
        chain.append(ancestor)
        seen.add(ancestor.pk)
        ancestor = ancestor.parent
    grace = at - timedelta(seconds=settings.ALERT_RECOVERY_GRACE_SECONDS)
    for cause in chain:
        own = cause is device
        behind = "" if own else f" ({device.name} depends on it)"
        if cause.state == DeviceState.DOWN:
            return Suppressed(Suppression.DEVICE_DOWN if own else Suppression.PARENT_DOWN,
                              f"{cause.name} is down{behind}")
        if cause.state_since > grace and DeviceStateChange.objects.filter(
                device=cause, previous=DeviceState.DOWN, at__gt=grace, at__lte=at).exists():
            return Suppressed(Suppression.RECOVERING if own else Suppression.PARENT_RECOVERING,
                              f"{cause.name} was down until {timezone.localtime(cause.state_since):%H:%M:%S}{behind}")
    return None


def flapping(fired: int) -> Suppressed | None:
    """A series that fired this often within FLAP_WINDOW_MINUTES flaps (FLAP_THRESHOLD times or more)."""
    if fired < settings.FLAP_THRESHOLD:
        return None
    return Suppressed(Suppression.FLAPPING, f"flapping: fired {fired} times in {settings.FLAP_WINDOW_MINUTES} min")


def was_flapping(rule: AlertRule, alert: Alert, at: datetime) -> bool:
    """Whether people were already told this series flaps (by an earlier alert within the window)."""
    window = timedelta(minutes=settings.FLAP_WINDOW_MINUTES)
    return Alert.objects.filter(rule=rule, fingerprint=alert.fingerprint, triggered_at__gt=at - window,
                                suppression=Suppression.FLAPPING).exclude(pk=alert.pk).exists()
