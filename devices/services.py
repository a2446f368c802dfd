"""The one place that changes a device's state, and the monitoring mode in force."""
from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from devices.choices import DeviceState, MonitoringMode
from devices.models import Device, DeviceStateChange, MonitoringProfile
from devices.signals import state_changed
from wardsite.text import quote
from wardsite.victoria import Sample

logger = logging.getLogger(__name__)

# The state as a series, written by the collector that decides it: 1 up, 0 down (nothing while unknown).
STATE_METRIC = "device_up"


def set_state(device_id: int, new: DeviceState | str, *, reason: str = "", at: datetime | None = None) -> bool:
    """Move a device to `new` and record the transition; return False when it already was in that state."""
    return set_states([(device_id, new, reason)], at=at) == 1


def set_states(changes: Iterable[tuple[int, DeviceState | str, str]], *, at: datetime | None = None) -> int:
    """Move many devices, each (device id, new state, reason), in one transaction; returns how many changed.

    The rows are locked first, so concurrent callers are safe: only one of them records a transition. Once it is
    committed, `devices.signals.state_changed` is sent per device (the alert engine listens).
    """
    at, wanted = at or timezone.now(), {pk: (new, reason) for pk, new, reason in changes}
    if not wanted:
        return 0
    with transaction.atomic():
        rows = Device.objects.select_for_update().filter(pk__in=wanted).values_list("pk", "state", "name")
        moved = [(pk, previous, name) for pk, previous, name in rows if previous != wanted[pk][0]]
        for new in {wanted[pk][0] for pk, _, _ in moved}:
            Device.objects.filter(pk__in=[pk for pk, _, _ in moved if wanted[pk][0] == new]).update(
                state=new, state_since=at)
        DeviceStateChange.objects.bulk_create([
            DeviceStateChange(device_id=pk, previous=previous, new=wanted[pk][0], at=at, reason=wanted[pk][1])
            for pk, previous, _ in moved])
        for pk, previous, _ in moved:
            transaction.on_commit(functools.partial(state_changed.send, sender=Device, device_id=pk,
                                                    previous=previous, new=wanted[pk][0], at=at))
    for pk, previous, name in moved:
        reason = wanted[pk][1]
        logger.info("%s is %s (was %s)%s", name, wanted[pk][0], previous, f": {reason}" if reason else "")
    return len(moved)


def decide_state(current: str, *, answered: bool | None, failures: int, down_after: int) -> DeviceState | None:
    """The one up/down policy of the collectors: the state a check moves a device to, or None to leave it.

    Up on the first answer; down once `failures` checks in a row have failed and reached `down_after`. A check
    with `answered` None says nothing about reachability (an SNMP agent that refused our credentials answered).
    """
    if answered:
        return DeviceState.UP if current != DeviceState.UP else None
    if answered is False and failures >= down_after and current != DeviceState.DOWN:
        return DeviceState.DOWN
    return None


@dataclass(frozen=True)
class Check:
    """What a collector's check of a device found (see decide_state); `reason` is recorded with a change."""

    device: Device
    answered: bool | None
    failures: int
    down_after: int
    reason: str


def record_checks(checks: Iterable[Check], at: datetime | None = None) -> dict[int, str]:
    """Apply `decide_state` to many checks, the changes recorded by one set_states; each device's state now."""
    states, changes = {}, []
    for check in checks:
        new = decide_state(check.device.state, answered=check.answered, failures=check.failures,
                           down_after=check.down_after)
        states[check.device.pk] = new or check.device.state
        if new is not None:
            changes.append((check.device.pk, new, check.reason[:255]))
    set_states(changes, at=at)
    return states


def state_samples(states: Iterable[tuple[Device, str]], at: datetime) -> list[Sample]:
    """The `device_up` samples of (device, state) pairs; a device whose state is unknown has none."""
    ts = int(at.timestamp() * 1000)
    return [Sample(STATE_METRIC, {"device_id": str(device.pk), "device": device.name},
                   1.0 if state == DeviceState.UP else 0.0, ts)
            for device, state in states if state != DeviceState.UNKNOWN]


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
        raise Device.DoesNotExist(f"no device named or numbered {quote(ref)}")
    return device


def poller_queues(device_ids: Iterable[int]) -> dict[int, str]:
    """The Celery queue of each device's poller: its group's `poller_queue`, "" for the central workers."""
    pinned = Device.objects.filter(pk__in=list(device_ids)).values_list("pk", "group__poller_queue")
    return {pk: queue or "" for pk, queue in pinned}
