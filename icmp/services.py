"""ICMP monitoring: which devices are due, one ping cycle over a batch, and what it means for their state."""
from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from devices import services as device_services
from devices.choices import DeviceState
from devices.models import Device
from icmp.history_sources import History, claimed_history
from icmp.models import EffectiveSettings, PingStatus
from icmp.pinger import PingResult, sweep
from wardsite.bulk import update_values
from wardsite.dispatch import Batches, Claim, claim_batches, next_due
from wardsite.durations import parse_duration
from wardsite.victoria import Sample, get_client

logger = logging.getLogger(__name__)

_DEVICE_RELATED = ("ping_settings", "group__ping_settings")
NOT_POLLED = "not polled: batch deadline"


def effective_settings(device: Device) -> EffectiveSettings:
    """Device settings, else its group's, else the global defaults."""
    for owner in (device, device.group):
        own = getattr(owner, "ping_settings", None) if owner is not None else None
        if own is not None:
            return own.effective()
    return EffectiveSettings.defaults()


def interval_in_sql(device: str = "") -> Coalesce:
    """`effective_settings(...).interval_seconds` as an SQL expression, the device reached by the path `device`
    ("device__" from a status row): the dispatcher reads it with the rows it claims, no instances made."""
    return Coalesce(f"{device}ping_settings__interval_seconds", f"{device}group__ping_settings__interval_seconds",
                    Value(settings.ICMP_INTERVAL_SECONDS))


def due_batches(now: datetime | None = None) -> Batches:
    """Claim the devices whose cycle is due, move their next due time on by their interval, and cut them into
    (queue, device ids) batches of at most ICMP_BATCH_SIZE; empty in zabbix mode."""
    if not device_services.standalone_enabled():
        return []
    now = now or timezone.now()

    def reschedule(row: Claim) -> None:
        row["next_due_at"] = next_due(timedelta(seconds=row["interval_seconds"]), now, row["pk"])

    rows = PingStatus.objects.filter(device__icmp_enabled=True).annotate(interval_seconds=interval_in_sql("device__"))
    return claim_batches(rows, Device.objects.filter(icmp_enabled=True), reschedule, now=now,
                         size=settings.ICMP_BATCH_SIZE)


@dataclass(frozen=True)
class CycleOutcome:
    device_id: int
    result: PingResult
    state: str


async def _sweep_all(groups: dict[EffectiveSettings, list[str]], deadline: float | None = None
                     ) -> dict[str, PingResult]:
    """The sweeps of all groups at once; a group's sweep still running `deadline` seconds after the start is
    given up (its addresses are left out) and the others kept."""
    sweeps = [
        asyncio.ensure_future(sweep(
            addresses,
            count=eff.packets,
            interval=eff.packet_interval_ms / 1000,
            timeout=eff.timeout_ms / 1000,
        ))
        for eff, addresses in groups.items()
    ]
    if sweeps:
        await asyncio.wait(sweeps, timeout=deadline)
    results: dict[str, PingResult] = {}
    for part in sweeps:
        if part.done():
            results.update(part.result())
        else:
            part.cancel()
    return results


def ping_devices(devices: Sequence[Device], deadline: float | None = None
                 ) -> dict[int, tuple[EffectiveSettings, PingResult]]:
    """One ping cycle over `devices`, grouped by their packet settings, all in flight at once; devices whose
    group's sweep outlived `deadline` seconds are left out."""
    settings_of = {device.pk: effective_settings(device) for device in devices}
    groups: dict[EffectiveSettings, list[str]] = defaultdict(list)
    for device in devices:
        groups[settings_of[device.pk]].append(device.address)
    results = asyncio.run(_sweep_all(groups, deadline))
    return {device.pk: (settings_of[device.pk], results[device.address]) for device in devices
            if device.address in results}


def mark_not_polled(devices: Sequence[Device]) -> None:
    """Devices the batch deadline left out: their status says so; failures and state are left as they are (no
    answer was awaited to the end, so none counts as missing)."""
    logger.warning("ICMP batch deadline (%d s) passed: %d devices not polled", settings.ICMP_BATCH_DEADLINE_SECONDS,
                   len(devices))
    PingStatus.objects.filter(device__in=devices).update(error=NOT_POLLED)


# what a cycle writes on a device's status row (update_values: the rows are read as values, not instances)
_CYCLE_FIELDS = ("checked_at", "consecutive_failures", "next_due_at", "rtt_min_ms", "rtt_avg_ms", "rtt_max_ms",
                 "jitter_ms", "packet_loss", "error")


def run_cycle(device_ids: Iterable[int], claimed_at: datetime | None = None) -> list[CycleOutcome]:
    """Ping a batch of devices once, update their status and state (together), then write the series.
    `claimed_at`: when the dispatcher handed the batch out (a quick retry counts from it), else the cycle's start."""
    devices = list(
        Device.objects.filter(pk__in=list(device_ids), icmp_enabled=True).select_related("group", *_DEVICE_RELATED)
    )
    if not devices:
        return []
    started = timezone.now()  # the series' timestamp: when the probes went out (Prometheus stamps a scrape's start)
    results = ping_devices(devices, settings.ICMP_BATCH_DEADLINE_SECONDS)
    now = timezone.now()
    statuses = _status_rows([device.pk for device in devices], due=started)
    if late := [device for device in devices if device.pk not in results]:
        mark_not_polled(late)
        devices = [device for device in devices if device.pk in results]
    with transaction.atomic():  # a new state and the figures behind it are seen together, before any write
        checks = [_apply(device, statuses[device.pk], *results[device.pk], now) for device in devices]
        states = device_services.record_checks(checks, at=now)  # the changes of the whole batch at once
        outcomes = [_retry_soon(statuses[device.pk], results[device.pk][1], states[device.pk], claimed_at or started)
                    for device in devices]
        update_values(PingStatus, [statuses[device.pk] for device in devices], _CYCLE_FIELDS)
        device_services.mark_seen((o.device_id for o in outcomes if o.result.is_alive), now)
    states = [(device, outcome.state) for device, outcome in zip(devices, outcomes)]
    get_client().write([*_samples(devices, results, started), *device_services.state_samples(states, now)])
    return outcomes


def _status_rows(device_ids: list[int], due: datetime) -> dict[int, dict]:
    """What a cycle reads of its devices' status rows, by device id, read after the ping (a row the dispatcher or
    a person moved meanwhile is not overwritten with what it was before); a device without one gets one, due at
    `due`."""
    def read(ids: list[int]) -> dict[int, dict]:
        return {row["pk"]: row for row in PingStatus.objects.filter(pk__in=ids).values("pk", "consecutive_failures",
                                                                                      "next_due_at")}

    rows = read(device_ids)
    if missing := [pk for pk in device_ids if pk not in rows]:
        PingStatus.objects.bulk_create([PingStatus(device_id=pk, next_due_at=due) for pk in missing],
                                       ignore_conflicts=True)
        rows.update(read(missing))
    return rows


def _apply(device: Device, status: dict, eff: EffectiveSettings, result: PingResult,
           now: datetime) -> device_services.Check:
    """Record one cycle on the status row; what it says of the device (down after N failed cycles, up after one
    good one) is decided for the whole batch by the caller."""
    failures = 0 if result.is_alive else status["consecutive_failures"] + 1
    status.update(checked_at=now, rtt_min_ms=result.min_ms, rtt_avg_ms=result.avg_ms, rtt_max_ms=result.max_ms,
                  jitter_ms=result.jitter_ms, packet_loss=result.loss_percent, error=(result.error or "")[:255],
                  consecutive_failures=failures)
    reason = "replies to ping" if result.is_alive else (
        f"{failures} failed ping cycles" + (f" ({result.error})" if result.error else ""))
    return device_services.Check(device, result.is_alive, failures, eff.down_after, reason)


def _retry_soon(status: dict, result: PingResult, state: str, claimed: datetime) -> CycleOutcome:
    """A failed cycle of a device not yet down is retried ICMP_RETRY_SECONDS after it was claimed rather than a whole
    interval later, so the N cycles that confirm an outage follow each other closely.

    The dispatcher claims on a tick every ICMP_DISPATCH_SECONDS: the retry is due half a tick before the tick
    ICMP_RETRY_SECONDS after its claim, so that tick takes it. Due exactly then (or counted from the cycle's start,
    a moment after its tick), the tick came just too early and each retry waited one more: 3 s apart, not 2."""
    if not result.is_alive and state != DeviceState.DOWN:
        retry = timedelta(seconds=settings.ICMP_RETRY_SECONDS - settings.ICMP_DISPATCH_SECONDS / 2)
        status["next_due_at"] = min(status["next_due_at"], claimed + retry)
    return CycleOutcome(status["pk"], result, state)


def _samples(devices: Sequence[Device], results: dict[int, tuple[EffectiveSettings, PingResult]], at: datetime):
    ts = int(at.timestamp() * 1000)
    for device in devices:
        result = results[device.pk][1]
        labels = {"device_id": str(device.pk), "device": device.name, "ip": device.address}
        yield Sample("ping_up", labels, 1.0 if result.is_alive else 0.0, ts)
        yield Sample("ping_packet_loss", labels, result.loss_percent, ts)
        if result.is_alive:
            yield Sample("ping_rtt_ms", labels, result.avg_ms, ts)
            yield Sample("ping_rtt_min_ms", labels, result.min_ms, ts)
            yield Sample("ping_rtt_max_ms", labels, result.max_ms, ts)
            yield Sample("ping_jitter_ms", labels, result.jitter_ms, ts)


def availability(device_ids: Sequence[int], window: str = "24h") -> dict[int, float]:
    """Percent of ping cycles answered over `window`, per device, computed by VictoriaMetrics."""
    if not device_ids:
        return {}
    parse_duration(window)
    selector = "|".join(str(pk) for pk in device_ids)
    rows = get_client().query(f'avg_over_time(ping_up{{device_id=~"{selector}"}}[{window}]) * 100')
    return {int(row["metric"]["device_id"]): float(row["value"][1]) for row in rows}


HISTORY_METRICS = ("ping_rtt_ms", "ping_rtt_min_ms", "ping_rtt_max_ms", "ping_jitter_ms", "ping_packet_loss", "ping_up")


def history(device_id: int, window: str = "1h", points: int = 300) -> dict[str, list[tuple[float, float]]]:
    """A device's ping series over `window` as {metric: [(unix time, value), ...]}."""
    seconds = parse_duration(window)
    step = max(1, seconds // points)
    end = timezone.now().timestamp() + step  # VictoriaMetrics aligns `end` down to the step: keep the newest sample
    expr = f'{{__name__=~"{"|".join(HISTORY_METRICS)}", device_id="{device_id}"}}'
    series = get_client().query_range(expr, end - seconds, end, step)
    out: dict[str, list[tuple[float, float]]] = {name: [] for name in HISTORY_METRICS}
    for row in series:
        out[row["metric"]["__name__"]] = [(float(t), float(v)) for t, v in row["values"]]
    return out


def device_history(device: Device, window: str = "1h", points: int = 300) -> History:
    """A device's ping history over `window`: from the app that claims it (`icmp.history_sources`, e.g. Zabbix),
    else from VictoriaMetrics; every HISTORY_METRICS series is present. HistoryUnavailable or VictoriaError when
    its source cannot be read."""
    found = claimed_history(device, parse_duration(window), points)
    if found is None:
        return History(history(device.pk, window, points), availability([device.pk], window).get(device.pk),
                       "victoriametrics")
    return History({name: found.series.get(name, []) for name in HISTORY_METRICS}, found.availability,
                   found.source, found.note)
