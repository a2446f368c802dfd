"""Availability reports: per device and per group over a period, how long each device was down, how often, and
how long it took to come back (MTTR).

The outages come from the state history (`DeviceStateChange`), each dated from its first failed ping cycle in
VictoriaMetrics (`ping_up` turning 0) rather than from when it was confirmed down after ICMP_DOWN_AFTER cycles,
and ending when the device was back up. Time in the unknown state (never checked, monitoring off) is neither up
nor down: it is left out of the monitored time. Maintenance windows are left out of both when asked.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import fmean

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from alerts.models import MaintenanceWindow
from devices.choices import DeviceState
from devices.models import Device, DeviceStateChange
from wardsite.victoria import VictoriaError, get_client

logger = logging.getLogger(__name__)

PERIODS = {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=30)}
MAX_DAYS = 400  # the longest custom period (a year and a bit: yearly reports fit)
# How far before an outage was confirmed its first failed ping cycle is looked for (ICMP_DOWN_AFTER cycles with
# their quick retries take seconds; a device's own down_after of 10 at a 60 s interval, 10 minutes).
FIRST_FAILURE_LOOKBACK = timedelta(minutes=15)
# The longest query sent for the outages' first failures, many outages to a query: VictoriaMetrics refuses
# queries longer than -search.maxQueryLen (16 KiB by default).
QUERY_LENGTH = 16_000
MONITORED = (DeviceState.UP, DeviceState.DOWN)

Span = tuple[datetime, datetime]


@dataclass(frozen=True)
class Outage:
    start: datetime  # the first failed ping cycle, else when the device was confirmed down
    end: datetime | None  # back up; None while still down


@dataclass
class Availability:
    """One row of a report: a device, or a group of devices (summed)."""

    name: str
    devices: int = 0
    monitored_seconds: float = 0.0
    downtime_seconds: float = 0.0
    incidents: int = 0
    repair_seconds: list[float] = field(default_factory=list)  # each outage that ended in the period, whole

    @property
    def availability_percent(self) -> float | None:
        if not self.monitored_seconds:
            return None
        return 100.0 * (1.0 - min(self.downtime_seconds, self.monitored_seconds) / self.monitored_seconds)

    @property
    def mttr_seconds(self) -> float | None:
        return fmean(self.repair_seconds) if self.repair_seconds else None

    @property
    def downtime_minutes(self) -> float:
        return self.downtime_seconds / 60

    @property
    def mttr_minutes(self) -> float | None:
        return None if self.mttr_seconds is None else self.mttr_seconds / 60

    @property
    def monitored_minutes(self) -> float:
        return self.monitored_seconds / 60

    def add(self, other: Availability) -> None:
        self.devices += other.devices
        self.monitored_seconds += other.monitored_seconds
        self.downtime_seconds += other.downtime_seconds
        self.incidents += other.incidents
        self.repair_seconds += other.repair_seconds


class BadPeriod(ValueError):
    """A report period that cannot be: `field` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def report_span(period: str, start: datetime | None = None, end: datetime | None = None,
                now: datetime | None = None) -> Span:
    """From `start` to `end` when given (both), else the last day, week (7 days) or month (30 days) up to now;
    BadPeriod when only one is given, the end is not after the start or the period exceeds MAX_DAYS."""
    if start is None and end is None:
        now = now or timezone.now()
        return now - PERIODS[period], now
    if start is None or end is None:
        raise BadPeriod("end" if start else "start", "a custom period needs both start and end")
    if end <= start:
        raise BadPeriod("end", "the end must be after the start")
    if (end - start).days > MAX_DAYS:
        raise BadPeriod("end", f"a period of at most {MAX_DAYS} days")
    return start, end


def report(devices: Sequence[Device], span: Span, by: str = "device", exclude_maintenance: bool = False
           ) -> list[Availability]:
    """The report's rows: a row per device, or per group (`by="group"`)."""
    rows = by_device(devices, span, exclude_maintenance)
    return by_group(devices, rows) if by == "group" else rows


def by_device(devices: Sequence[Device], span: Span, exclude_maintenance: bool = False) -> list[Availability]:
    """A row per device (in the order given)."""
    device_ids = [d.pk for d in devices]
    timelines = _timelines(device_ids, span)
    outages = _outages(timelines, span)
    windows = _maintenance(device_ids, span) if exclude_maintenance else {}
    rows = []
    for device in devices:
        row = Availability(device.name, devices=1)
        holes = windows.get(device.pk, [])
        for start, end, state in timelines[device.pk]:
            if state in MONITORED:
                row.monitored_seconds += _length(_minus([_clip((start, end), span)], holes))
        for outage in outages[device.pk]:
            down = _length(_minus([_clip((outage.start, outage.end or span[1]), span)], holes))
            if down <= 0:
                continue  # all of it in maintenance
            row.downtime_seconds += down
            row.incidents += 1
            if outage.end is not None and outage.end < span[1]:
                row.repair_seconds.append((outage.end - outage.start).total_seconds())
        rows.append(row)
    return rows


def by_group(devices: Sequence[Device], rows: Sequence[Availability]) -> list[Availability]:
    """The device rows summed per group (by name; devices without a group under "")."""
    groups: dict[str, Availability] = {}
    for device, row in zip(devices, rows):
        name = device.group.name if device.group_id else ""
        groups.setdefault(name, Availability(name)).add(row)
    return [groups[name] for name in sorted(groups)]


def _timelines(device_ids: list[int], span: Span) -> dict[int, list[tuple[datetime, datetime, str]]]:
    """Each device's states over the span as (from, to, state); the first one from when it began, before the span
    maybe (an outage going on at the span's start keeps its real start)."""
    start, end = span
    before = DeviceStateChange.objects.filter(device=OuterRef("pk"), at__lt=start).order_by("-at")
    opening = {pk: (at or start, state or DeviceState.UNKNOWN) for pk, state, at in Device.objects.filter(
        pk__in=device_ids).annotate(state_then=Subquery(before.values("new")[:1]),
                                    since=Subquery(before.values("at")[:1])).values_list("pk", "state_then", "since")}
    changes = defaultdict(list)
    for pk, at, new in DeviceStateChange.objects.filter(device__in=device_ids, at__gte=start, at__lt=end).order_by(
            "device_id", "at", "pk").values_list("device_id", "at", "new"):
        changes[pk].append((at, new))
    timelines = {}
    for pk in device_ids:
        at, state = opening.get(pk, (start, DeviceState.UNKNOWN))
        segments = []
        for changed_at, new in changes[pk]:
            segments.append((at, changed_at, state))
            at, state = changed_at, new
        segments.append((at, end, state))
        timelines[pk] = [segment for segment in segments if segment[1] > start]
    return timelines


def _outages(timelines: dict[int, list[tuple[datetime, datetime, str]]], span: Span) -> dict[int, list[Outage]]:
    """Each device's down segments, each from its first failed ping cycle (not before the state it followed)."""
    downs = [(pk, timeline[n - 1][0] if n else None, start, end) for pk, timeline in timelines.items()
             for n, (start, end, state) in enumerate(timeline) if state == DeviceState.DOWN]
    outages: dict[int, list[Outage]] = defaultdict(list)
    firsts = _first_failures([(pk, start) for pk, _, start, _ in downs])
    for (pk, previous, _, end), first in zip(downs, firsts):
        outages[pk].append(Outage(max(first, previous) if previous else first, end if end < span[1] else None))
    return outages


def _first_failures(confirmations: list[tuple[int, datetime]]) -> list[datetime]:
    """For each (device id, time its outage was confirmed), the time of the outage's first failed ping cycle: the
    last change of the device's `ping_up` before it was confirmed. The confirmation itself for a device that is not
    pinged or has no such change. As few queries as QUERY_LENGTH allows, each asking for many outages."""
    found = [confirmed for _, confirmed in confirmations]
    for batch in _batches([_first_failure_query(n, *asked) for n, asked in enumerate(confirmations)]):
        try:
            rows = get_client().query(" or ".join(batch))
        except VictoriaError as exc:
            logger.warning("availability: the first failed ping cycle of %d outages is unknown (%s)", len(batch), exc)
            continue
        changes: dict[int, float] = {}
        for row in rows:  # a device's series renamed within the lookback: its latest change
            n = int(row["metric"]["outage"])
            changes[n] = max(changes.get(n, 0.0), float(row["value"][1]))
        for n, change in changes.items():
            found[n] = min(found[n], datetime.fromtimestamp(change, tz=found[n].tzinfo))
    return found


def _first_failure_query(n: int, device_id: int, confirmed: datetime) -> str:
    """The last change of the device's `ping_up` before `confirmed`, labelled outage=`n`."""
    lookback = int(FIRST_FAILURE_LOOKBACK.total_seconds())
    return (f'label_set(tlast_change_over_time(ping_up{{device_id="{device_id}"}}[{lookback}s] '
            f'@ {confirmed.timestamp()!r}), "outage", "{n}")')


def _batches(queries: list[str]) -> Iterable[list[str]]:
    """The queries in groups, each group's `or` of them at most QUERY_LENGTH long."""
    batch: list[str] = []
    length = 0
    for query in queries:
        if batch and length + len(" or ") + len(query) > QUERY_LENGTH:
            yield batch
            batch, length = [], 0
        length += len(query) + (len(" or ") if batch else 0)
        batch.append(query)
    if batch:
        yield batch


def _maintenance(device_ids: list[int], span: Span) -> dict[int, list[Span]]:
    """Each device's maintenance occurrences in the span."""
    holes: dict[int, list[Span]] = defaultdict(list)
    for cover in MaintenanceWindow.objects.covering(*span, devices=device_ids):
        for pk in device_ids if cover.device_ids is None else cover.device_ids:
            holes[pk] += cover.spans
    return holes


def _clip(interval: Span, span: Span) -> Span:
    return max(interval[0], span[0]), min(interval[1], span[1])


def _minus(intervals: list[Span], holes: list[Span]) -> list[Span]:
    """`intervals` with the `holes` cut out."""
    for hole_start, hole_end in holes:
        kept = []
        for start, end in intervals:
            if hole_end <= start or hole_start >= end:
                kept.append((start, end))
                continue
            if start < hole_start:
                kept.append((start, hole_start))
            if hole_end < end:
                kept.append((hole_end, end))
        intervals = kept
    return intervals


def _length(intervals: list[Span]) -> float:
    return sum(max(0.0, (end - start).total_seconds()) for start, end in intervals)
