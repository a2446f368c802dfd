"""The one place that changes a device's state, and the monitoring mode in force."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from devices.choices import DeviceState, MonitoringMode
from devices.models import Device, DeviceStateChange, MonitoringProfile


def set_state(device_id: int, new: DeviceState | str, *, reason: str = "", at: datetime | None = None) -> bool:
    """Move a device to `new` and record the transition; return False when it already was in that state.

    The conditional UPDATE makes concurrent callers safe: only one of them records the transition.
    """
    at = at or timezone.now()
    with transaction.atomic():
        previous = (
            Device.objects.select_for_update().filter(pk=device_id).exclude(state=new).values_list("state", flat=True)
        ).first()
        if previous is None:
            return False
        Device.objects.filter(pk=device_id).update(state=new, state_since=at)
        DeviceStateChange.objects.create(device_id=device_id, previous=previous, new=new, at=at, reason=reason)
    return True


def mark_seen(device_ids: Iterable[int], at: datetime | None = None) -> None:
    """Record the time of the last successful reply for many devices in one query."""
    ids = list(device_ids)
    if ids:
        Device.objects.filter(pk__in=ids).update(last_seen=at or timezone.now())


def monitoring_mode() -> str:
    """The active profile's mode; standalone when no profile exists yet."""
    mode = MonitoringProfile.objects.filter(is_active=True).values_list("mode", flat=True).first()
    return mode or MonitoringMode.STANDALONE


def standalone_enabled() -> bool:
    """Own SNMP/ICMP collection runs in standalone and hybrid mode only."""
    return monitoring_mode() in (MonitoringMode.STANDALONE, MonitoringMode.HYBRID)


def device_by_ref(ref: str) -> Device:
    """The device named `ref`, or with id `ref`; Device.DoesNotExist otherwise."""
    device = Device.objects.filter(name=ref).first()
    if device is None and ref.isdigit():
        device = Device.objects.filter(pk=int(ref)).first()
    if device is None:
        raise Device.DoesNotExist(f"no device named or numbered {ref!r}")
    return device
