"""SNMP collection: which devices are due, one poll over a batch, and what it means for the database.

The dispatcher claims devices whose `SNMPStatus.next_due_at` has come (the earliest due item, interface counter
poll or interface discovery) and hands them out in batches; `run_batch` polls a batch concurrently, keeps the
counter samples rates need in Redis, records items, interfaces, status and, for devices that are not pinged, their
up/down state, and then writes the series (snmp.metrics). A device that fails is backed off exponentially.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from devices import services as device_services
from devices.models import Device
from snmp import busiest, client, counter_state, metrics, poller
from snmp.client import SNMPError, SNMPTimeout, Target, Value
from snmp.counters import CounterSample
from snmp.models import OVERRIDABLE_FIELDS, Interface, MonitoringItem, SNMPCredential, SNMPStatus
from snmp.oids import parse_oid
from wardsite import target_policy
from wardsite.bulk import update_rows
from wardsite.dispatch import Batches, Claim, claim_batches, ensure_status_rows, next_due
from wardsite.victoria import get_client

logger = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=5)  # a claimed device is handed out again after this if its batch never finished


class SNMPConfigError(ValueError):
    """The device cannot be polled as configured (no credential, SNMP off, an unusable credential)."""


@dataclass
class PollResult:
    """One device's poll: item values by name, interface series by ifName, or the error."""

    device_id: int
    device: str
    error: str = ""
    uptime_seconds: float | None = None
    items: dict[str, metrics.ItemResult] = field(default_factory=dict)
    interfaces: dict[str, dict[str, float]] = field(default_factory=dict)
    samples_written: int = 0


# --- targets and one-off requests -------------------------------------------------------------------------------

def target_for(device: Device) -> Target:
    """The SNMP target of a device from its address, port and credential; SNMPConfigError if it has none."""
    if device.snmp_credential_id is None:
        raise SNMPConfigError(f"{device}: no SNMP credential: choose one on the device")
    try:
        return Target.from_credential(device.snmp_credential, device.address, device.snmp_port)
    except ValueError as exc:
        raise SNMPConfigError(f"{device}: {exc}") from None


def target_for_address(credential: SNMPCredential, host: str, port: int = 161) -> Target:
    """The target for a credential sent to an address a user names: only inside the allow-list, and to the address
    that was checked (wardsite.target_policy.TargetRefused otherwise)."""
    return Target.from_credential(credential, target_policy.allowed_address(host), port)


def test_connection(target: Target) -> dict[str, str | float | None]:
    """sysDescr, sysObjectID, sysName and uptime of the agent at `target`; SNMPError with the reason otherwise."""
    wanted = {**poller.SYSTEM, "uptime": poller.SYS_UPTIME}
    values = client.get_sync(target, list(wanted.values()))
    facts: dict[str, str | float | None] = {
        name: "" if values[oid].missing else values[oid].text for name, oid in poller.SYSTEM.items()}
    uptime = values[poller.SYS_UPTIME]
    facts["uptime_seconds"] = uptime.value / 100 if isinstance(uptime.value, int) else None
    return facts


def record_system(device: Device, facts: Mapping[str, object]) -> None:
    """Keep what the device's agent says of itself (sys_descr, sys_object_id, sys_name, as `test_connection`
    names them) on its SNMP status row, creating the row if need be."""
    SNMPStatus.objects.update_or_create(device=device, defaults={
        "sys_descr": str(facts["sys_descr"]), "sys_object_id": str(facts["sys_object_id"])[:255],
        "sys_name": str(facts["sys_name"])[:255]})


def walk_columns(device: Device, columns: Iterable[str]) -> dict[str, dict[str, Value]]:
    """Each table column's rows on the device, {column: {row index: value}}; SNMPError/SNMPConfigError on failure."""
    target = target_for(device)
    columns = list(dict.fromkeys(columns))

    async def walk_all() -> list[list[tuple[str, Value]]]:
        return [await client.walk(target, column) for column in columns]

    return {column: {oid[len(column) + 1:]: value for oid, value in rows}
            for column, rows in zip(columns, client.run(walk_all()))}


def record_overrides(item: MonitoringItem, changes: dict) -> None:
    """Save an operator's changes to an item; on a template-made item they become overrides the template keeps."""
    for name, value in changes.items():
        setattr(item, name, value)
    if item.template_item_id is not None:
        item.overrides = sorted(set(item.overrides) | (set(changes) & set(OVERRIDABLE_FIELDS)))
    item.save()


def check_pollable(device: Device) -> None:
    """SNMPConfigError saying why the device cannot be polled, if it cannot."""
    if not device.snmp_enabled:
        raise SNMPConfigError(f"{device}: SNMP monitoring is off for this device: enable it first")
    target_for(device)


def poll_device(device: Device) -> PollResult:
    """Poll a device now, everything it has (not only what is due); SNMPConfigError if it cannot be polled."""
    check_pollable(device)
    return run_batch([device.pk], force=True)[0]


# --- dispatching ------------------------------------------------------------------------------------------------

def due_batches(now: datetime | None = None) -> Batches:
    """Claim the due devices and cut them into (queue, device ids) batches; empty in zabbix mode."""
    if not device_services.standalone_enabled():
        return []
    now = now or timezone.now()

    def lease(row: Claim) -> None:
        row["scheduled_at"] = row["next_due_at"]
        row["next_due_at"] = now + CLAIM_LEASE  # run_batch sets the real next due time

    rows = SNMPStatus.objects.filter(device__snmp_enabled=True, device__snmp_credential__isnull=False)
    return claim_batches(rows, Device.objects.filter(snmp_enabled=True), lease, now=now,
                         size=settings.SNMP_BATCH_SIZE, fields=("next_due_at", "scheduled_at"))


def poll_soon(device_id: int, now: datetime | None = None) -> bool:
    """Poll a device at the next dispatch, interfaces included, instead of after its back-off (it came back up).
    False when it is not backed off (a poll is running, or one is due anyway)."""
    now = now or timezone.now()
    return SNMPStatus.objects.filter(device_id=device_id, scheduled_at__isnull=True, next_due_at__gt=now).update(
        next_due_at=now, interfaces_due_at=now) == 1


# --- one batch --------------------------------------------------------------------------------------------------

@dataclass
class _Job:
    """One device of a batch: what it has, what was asked, what came back."""

    device: Device
    status: SNMPStatus
    items: list[MonitoringItem]
    interfaces: dict[int, Interface]
    plan: poller.PollPlan | None = None
    reading: poller.Reading | None = None
    bad_oids: dict[int, str] = field(default_factory=dict)  # due items whose stored OID is malformed: not asked


def run_batch(device_ids: Iterable[int], *, force: bool = False, now: datetime | None = None) -> list[PollResult]:
    """Poll a batch of devices (what is due at `now`, or everything with `force`) and record the outcome."""
    now = now or timezone.now()
    device_ids = list(device_ids)
    ensure_status_rows(SNMPStatus, Device.objects.filter(pk__in=device_ids, snmp_enabled=True), now)
    jobs = _load_jobs(device_ids)
    results: dict[int, PollResult] = {}
    for job in jobs:
        try:
            job.plan = _plan(job, now, force)
        except SNMPConfigError as exc:  # e.g. a credential no key decrypts: this device only
            results[job.device.pk] = PollResult(job.device.pk, job.device.name, error=str(exc))
    _record_unpollable([job for job in jobs if job.plan is None], results, now)
    planned = [job for job in jobs if job.plan is not None]
    readings = client.run(poller.collect_many([job.plan for job in planned], settings.SNMP_CONCURRENCY,
                                              deadline=settings.SNMP_BATCH_DEADLINE_SECONDS))
    for job, reading in zip(planned, readings):
        job.reading = reading
    results.update(_record(planned, force, now))
    return [results[job.device.pk] for job in jobs]


# what a poll reads and writes of an interface row (8 rows a device: the rest is discovery's, _sync_interfaces)
_POLLED_INTERFACE_FIELDS = ("device_id", "if_index", "name", "descr", "speed_bps", "admin_status", "oper_status",
                            "hc_counters", "enabled")


def _load_jobs(device_ids: list[int]) -> list[_Job]:
    devices = list(Device.objects.filter(pk__in=device_ids, snmp_enabled=True).select_related("snmp_credential"))
    statuses = SNMPStatus.objects.in_bulk([d.pk for d in devices])
    items: dict[int, list[MonitoringItem]] = defaultdict(list)
    for item in MonitoringItem.objects.filter(device__in=devices, enabled=True):
        items[item.device_id].append(item)
    interfaces: dict[int, dict[int, Interface]] = defaultdict(dict)
    for interface in Interface.objects.filter(device__in=devices).only(*_POLLED_INTERFACE_FIELDS):
        interfaces[interface.device_id][interface.if_index] = interface
    return [_Job(d, statuses[d.pk], items[d.pk], interfaces[d.pk]) for d in devices]


def _plan(job: _Job, now: datetime, force: bool) -> poller.PollPlan:
    """What is due for one device: items, interface counters, interface discovery."""
    horizon = now + timedelta(seconds=settings.SNMP_DISPATCH_SECONDS)  # due before the next dispatch: ask now
    status = job.status
    interfaces = None
    if force or status.interfaces_due_at <= horizon:
        interfaces = tuple(poller.InterfacePlan(i.if_index, i.hc_counters) for i in job.interfaces.values() if i.enabled)
    refresh = timedelta(seconds=settings.SNMP_INTERFACE_REFRESH_SECONDS)
    due = [item for item in job.items if force or item.next_due_at <= horizon]
    job.bad_oids = {item.pk: problem for item in due if (problem := _oid_problem(item.oid))}
    return poller.PollPlan(
        device_id=job.device.pk,
        target=target_for(job.device),
        items=tuple(poller.ItemPlan(i.pk, i.oid) for i in due if i.pk not in job.bad_oids),
        interfaces=interfaces,
        discover=status.discovered_at is None or status.discovered_at + refresh <= horizon,
        disabled_interfaces=frozenset(i.if_index for i in job.interfaces.values() if not i.enabled),
    )


def _oid_problem(oid: str) -> str:
    """Why a stored OID cannot be asked (it bypassed validation), or ""."""
    try:
        parse_oid(oid)
    except ValueError as exc:
        return str(exc)
    return ""


def _record_unpollable(jobs: list[_Job], results: dict[int, PollResult], now: datetime) -> None:
    """Devices that cannot be polled as configured: the reason on their status, tried again after a back-off;
    their reachability and state are left as they are (nothing was asked)."""
    for job in jobs:
        job.status.checked_at = now
        _back_off(job, now, results[job.device.pk].error)
    update_rows([job.status for job in jobs], ["next_due_at", "scheduled_at", "checked_at", "consecutive_failures",
                                               "error"])


def _record(jobs: list[_Job], force: bool, now: datetime) -> dict[int, PollResult]:
    """Record a polled batch: counter states, database rows and device states first, then the series, so
    neither a down VictoriaMetrics nor a slow one keeps the latest values or a state change from being saved."""
    previous = counter_state.load([job.device.pk for job in jobs])
    outcomes: dict[int, metrics.Outcome] = {}
    with transaction.atomic():
        for job in jobs:
            if job.reading.interfaces is not None:
                job.interfaces = _sync_interfaces(job.device, job.reading.interfaces)
            outcomes[job.device.pk] = _build(job, previous.get(job.device.pk, {}), force)
    counter_state.save({pk: {**previous[pk], **outcome.counters} for pk, outcome in outcomes.items()})
    results, items, interfaces = {}, [], {}
    with transaction.atomic():  # one statement per table for the whole batch
        for job in jobs:
            items += _apply_poll(job, outcomes[job.device.pk], now)
            if not job.reading.error:
                interfaces.update((row.pk, row) for row in _changed_interface_states(job))
            results[job.device.pk] = _result(job, outcomes[job.device.pk])
        update_rows(items, ["last_value", "last_error", "last_polled_at", "next_due_at"])
        update_rows(list(interfaces.values()), ["oper_status", "admin_status"])
        update_rows([job.status for job in jobs],
                    ["next_due_at", "scheduled_at", "interfaces_due_at", "discovered_at", "checked_at", "reachable",
                     "consecutive_failures", "error", "sys_descr", "sys_object_id", "sys_name", "uptime_seconds"])
    device_services.mark_seen((job.device.pk for job in jobs if not job.reading.error), now)
    unpinged = [job for job in jobs if not job.device.icmp_enabled]
    decided = device_services.record_checks([_device_check(job) for job in unpinged], at=now)
    states = [(job.device, decided[job.device.pk]) for job in unpinged]
    samples = [sample for outcome in outcomes.values() for sample in outcome.samples]
    get_client().write([*samples, *device_services.state_samples(states, now)])
    busiest.record(samples, now.timestamp())  # the dashboard's busiest interfaces
    return results


def _build(job: _Job, previous: dict[str, CounterSample], force: bool) -> metrics.Outcome:
    reading = job.reading
    polled = {index for index, _ in [*reading.counters, *reading.statuses]}
    delay = None
    if not force and job.status.scheduled_at is not None:
        delay = reading.started - job.status.scheduled_at.timestamp()
    return metrics.build(
        reading, device=job.device.name, previous=previous, delay_seconds=delay,
        items={item.pk: metrics.ItemInfo(item.metric, item.value_type, item.labels, item.value_map)
               for item in job.items},
        interfaces={index: metrics.InterfaceInfo(i.name or i.descr or str(index), i.speed_bps)
                    for index, i in job.interfaces.items() if index in polled},
    )


def _apply_poll(job: _Job, outcome: metrics.Outcome, now: datetime) -> list[MonitoringItem]:
    """The status row and items after one device's poll; returns the items changed (the caller saves them and the
    status for the whole batch)."""
    reading, status = job.reading, job.status
    status.checked_at = now
    if reading.error:
        status.reachable = False
        _back_off(job, now, str(reading.error))
        return []
    asked = {item.id for item in job.plan.items} | set(job.bad_oids)
    changed_items = []
    for item in job.items:
        if item.pk not in asked:
            continue
        unasked = metrics.ItemResult(error=job.bad_oids.get(item.pk, "no answer for this OID"))
        result = outcome.items.get(item.pk, unasked)
        item.last_value, item.last_error, item.last_polled_at = result.value, result.error[:255], now
        item.next_due_at = next_due(timedelta(seconds=item.interval_seconds), now, item.device_id)
        changed_items.append(item)
    if job.plan.interfaces is not None:
        status.interfaces_due_at = next_due(_interface_interval(), now, status.device_id)
    if reading.interfaces is not None:
        status.discovered_at = now
        for name, value in reading.system.items():
            setattr(status, name, value[:255] if name != "sys_descr" else value)
    status.reachable, status.consecutive_failures, status.error = True, 0, ""
    status.uptime_seconds = reading.uptime_ticks // 100 if reading.uptime_ticks is not None else None
    status.scheduled_at = None
    status.next_due_at = _earliest_due(job)
    return changed_items


def _interface_interval() -> timedelta:
    return timedelta(seconds=settings.SNMP_INTERFACE_INTERVAL_SECONDS)


def _earliest_due(job: _Job) -> datetime:
    """When anything of the device is next due: an item, the interface counters or the interface discovery."""
    status = job.status
    candidates = [status.interfaces_due_at, *(item.next_due_at for item in job.items)]
    if status.discovered_at is not None:
        candidates.append(status.discovered_at + timedelta(seconds=settings.SNMP_INTERFACE_REFRESH_SECONDS))
    return min(candidates)


def _back_off(job: _Job, now: datetime, error: str) -> None:
    """A failed poll: record why and wait twice as long as last time before the next try."""
    status = job.status
    status.consecutive_failures += 1
    status.error = error[:500]
    status.scheduled_at = None
    base = min([settings.SNMP_INTERFACE_INTERVAL_SECONDS, *(item.interval_seconds for item in job.items)])
    delay = min(base * 2 ** min(status.consecutive_failures - 1, 20), settings.SNMP_BACKOFF_MAX_SECONDS)
    status.next_due_at = now + timedelta(seconds=delay)


def _device_check(job: _Job) -> device_services.Check:
    """What the poll says of a device that is not pinged (SNMP decides its state): down after SNMP_DOWN_AFTER
    timeouts in a row. Only a timeout counts as no answer; other errors (refused credentials, error answers)
    leave the state as it is."""
    error, failures = job.reading.error, job.status.consecutive_failures
    answered = True if error is None else (False if isinstance(error, SNMPTimeout) else None)
    reason = "answers SNMP" if error is None else f"{failures} SNMP polls timed out"
    return device_services.Check(job.device, answered, failures, settings.SNMP_DOWN_AFTER, reason)


def _changed_interface_states(job: _Job) -> list[Interface]:
    """The interfaces whose oper/admin status the poll changed, set to it (the caller saves them)."""
    changed = []
    for (if_index, name), value in job.reading.statuses.items():
        interface = job.interfaces.get(if_index)
        if interface is not None and getattr(interface, name) != value:
            setattr(interface, name, value)
            changed.append(interface)
    return changed


def _sync_interfaces(device: Device, found: list[poller.InterfaceFacts]) -> dict[int, Interface]:
    """Make the device's Interface rows what discovery found; keep operators' enable flags; drop vanished rows."""
    existing = {i.if_index: i for i in Interface.objects.filter(device=device)}
    fields = ("name", "descr", "alias", "if_type", "speed_bps", "admin_status", "oper_status", "last_change_ticks",
              "hc_counters")
    rows: dict[int, Interface] = {}
    new, changed = [], []
    for facts in found:
        row = existing.get(facts.if_index) or Interface(device=device, if_index=facts.if_index)
        values = {name: getattr(facts, name) for name in fields}
        if row.pk is None:
            new.append(row)
        elif any(getattr(row, name) != value for name, value in values.items()):
            changed.append(row)
        for name, value in values.items():
            setattr(row, name, value)
        rows[facts.if_index] = row
    Interface.objects.bulk_create(new)
    Interface.objects.bulk_update(changed, fields)
    vanished = [pk for index, pk in ((i, r.pk) for i, r in existing.items()) if index not in rows]
    if vanished:
        Interface.objects.filter(pk__in=vanished).delete()
        logger.info("%s: %d interfaces no longer reported, removed", device, len(vanished))
    return rows


def _result(job: _Job, outcome: metrics.Outcome) -> PollResult:
    result = PollResult(job.device.pk, job.device.name, error=str(job.reading.error or ""),
                        samples_written=len(outcome.samples))
    if job.reading.error:
        return result
    if job.reading.uptime_ticks is not None:
        result.uptime_seconds = job.reading.uptime_ticks / 100
    names = {item.pk: item.name for item in job.items}
    result.items = {names[pk]: value for pk, value in outcome.items.items()}
    for sample in outcome.samples:
        if "ifName" in sample.labels:
            series = result.interfaces.setdefault(sample.labels["ifName"], {"ifIndex": int(sample.labels["ifIndex"])})
            series[sample.name.removeprefix("snmp_if_")] = sample.value
    return result
