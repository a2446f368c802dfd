"""A discovery scan: ICMP sweep of the targets, TCP and SNMP probes of the candidates, classification, and the
inventory updated; progress is written to the run as it goes (the admin and the API show it)."""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from devices.reverse_dns import ptr_name
from discovery import classifier, inventory, limits, targets
from discovery.choices import AutoAdd, RunState
from discovery.models import DiscoveryResult, DiscoveryRule, DiscoveryRun, parse_ports
from discovery.probe import HostProbe, probe_many
from icmp.pinger import sweep as ping_sweep
from snmp import client as snmp_client
from snmp.models import SNMPCredential

logger = logging.getLogger(__name__)
SWEEP_SHARE = 40  # percent of the progress bar the ICMP sweep takes; the probes take the rest up to 99
CHUNK = 1024  # addresses per progress step


def start(rule: DiscoveryRule | None = None, *, target_text: str = "", exclusions: str = "",
          credential_ids: Sequence[int] = (), user=None) -> DiscoveryRun:
    """A queued run of `rule`, or of ad-hoc targets and credentials, for `user` (None: a schedule or a command).
    Raises TargetError for a bad target and ScanRefused when a safety rule refuses the scan (both messages say
    which): the allow-list, the size limit, the rate and port maxima, limits.TooManyScans for the scans at once."""
    if rule is not None:
        target_text, exclusions = rule.targets, rule.exclusions
    networks = targets.parse(target_text)
    if not networks:
        raise targets.TargetError("no target: give a network, range or address")
    targets.parse(exclusions)
    targets.check_scan(networks)
    limits.check_probes(*_rate_and_ports(rule))
    with limits.admitted(user):
        return DiscoveryRun.objects.create(rule=rule, targets=target_text, exclusions=exclusions,
                                           credential_ids=list(credential_ids), requested_by=user)


def _rate_and_ports(rule: DiscoveryRule | None) -> tuple[int, tuple[int, ...]]:
    """Packets per second and TCP ports of a rule's scan, or of an ad-hoc one (DISCOVERY_RATE_LIMIT, no ports)."""
    if rule is None:
        return settings.DISCOVERY_RATE_LIMIT, ()
    return rule.rate_limit, parse_ports(rule.tcp_ports)


def execute(run_id: int, on_progress: Callable[[int], None] | None = None) -> DiscoveryRun:
    """Scan once, telling `on_progress` the percent done as it goes; a refused or failing scan ends in state failed
    with the reason in `errors`."""
    claimed = DiscoveryRun.objects.filter(pk=run_id, state=RunState.QUEUED).update(
        state=RunState.RUNNING, started_at=timezone.now())
    run = DiscoveryRun.objects.select_related("rule").get(pk=run_id)
    if not claimed:
        return run  # another worker has it, or it is over
    ended = {"state": RunState.FINISHED, "progress": 100}
    try:
        networks = targets.parse(run.targets)
        targets.check_scan(networks)  # the allow-list may have changed since it was queued
        _scan(run, targets.expand(networks, targets.parse(run.exclusions)), _Progress(run.pk, on_progress))
    except (targets.TargetError, targets.ScanRefused) as exc:
        ended = {"state": RunState.FAILED, "errors": str(exc)}
    except Exception as exc:  # recorded on the run for the operator, then raised for the worker's log
        DiscoveryRun.objects.filter(pk=run.pk).update(state=RunState.FAILED, errors=f"{type(exc).__name__}: {exc}",
                                                      finished_at=timezone.now())
        raise
    now = timezone.now()
    DiscoveryRun.objects.filter(pk=run.pk).update(finished_at=now, **ended)
    if run.rule_id:
        DiscoveryRule.objects.filter(pk=run.rule_id).update(last_run_at=now)
    run.refresh_from_db()
    return run


def _scan(run: DiscoveryRun, addresses: list[str], progress: _Progress) -> None:
    rule = run.rule
    rate, tcp_ports = _rate_and_ports(rule)
    # the maxima may have been lowered since the scan was started
    rate, tcp_ports = min(rate, settings.DISCOVERY_MAX_RATE), tcp_ports[:settings.DISCOVERY_MAX_TCP_PORTS]
    progress(0, addresses=len(addresses))
    rtts = {}
    if rule is None or rule.icmp:
        rtts = sweep(addresses, rate=rate, on_chunk=lambda done: progress(SWEEP_SHARE * done // len(addresses)))
    alive = {a for a, rtt in rtts.items() if rtt is not None}
    snmp_silent = rule is not None and (rule.snmp_silent_hosts or not rule.icmp)
    credentials = _credentials(run)
    probed_silent = (snmp_silent and credentials) or tcp_ports
    candidates = [a for a in addresses if a in alive or probed_silent]
    probes: dict[str, HostProbe] = {}
    for start_at in range(0, len(candidates), CHUNK):
        chunk = candidates[start_at:start_at + CHUNK]
        began = time.monotonic()
        probes |= snmp_client.run(_probe(chunk, alive, credentials, tcp_ports, snmp_silent))
        time.sleep(max(0.0, len(chunk) / rate - (time.monotonic() - began)))  # keep to the rate limit
        progress(SWEEP_SHARE + (99 - SWEEP_SHARE) * (start_at + len(chunk)) // len(candidates))
    found = [a for a in candidates if a in alive or _answered(probes.get(a))]
    names = reverse_dns(found)
    rules = classifier.rules()
    counts = {"alive": len(found), "snmp": 0, "new": 0, "updated": 0}
    counted: set[int] = set()  # a device found on several addresses counts once
    for address in found:
        result = _record(run, address, rtts.get(address), probes.get(address), names.get(address, ""), rules)
        counts["snmp"] += result.snmp_reachable
        outcome, device = inventory.settle(result, rule, rule.auto_add if rule else AutoAdd.OFF)
        if device is not None and device.pk not in counted:
            counted.add(device.pk)
            counts[outcome] += 1
    DiscoveryRun.objects.filter(pk=run.pk).update(**counts)


async def _probe(hosts: list[str], alive: set[str], credentials: list[SNMPCredential], tcp_ports: tuple[int, ...],
                 snmp_silent: bool) -> dict[str, HostProbe]:
    """SNMP on alive hosts (and silent ones if asked), TCP ports on silent ones."""
    answering = [h for h in hosts if h in alive]
    silent = [h for h in hosts if h not in alive]
    found = await probe_many(answering, credentials) if answering else {}
    if silent:
        found |= await probe_many(silent, credentials if snmp_silent else [], tcp_ports=tcp_ports)
    return found


def sweep(addresses: list[str], *, rate: int, timeout: float = 1.0, on_chunk=None) -> dict[str, float | None]:
    """One echo request per address, at most `rate` per second: address -> round trip in ms, None if silent."""
    rtts: dict[str, float | None] = {}
    for start_at in range(0, len(addresses), CHUNK * 16):
        chunk = addresses[start_at:start_at + CHUNK * 16]
        results = asyncio.run(ping_sweep(chunk, count=1, timeout=timeout, rate=rate))
        rtts |= {a: (r.avg_ms if r.is_alive else None) for a, r in results.items()}
        if on_chunk:
            on_chunk(start_at + len(chunk))
    return rtts


def reverse_dns(addresses: list[str]) -> dict[str, str]:
    """address -> name from reverse DNS, for those that have one (DISCOVERY_REVERSE_DNS off: none)."""
    if not settings.DISCOVERY_REVERSE_DNS or not addresses:
        return {}

    with ThreadPoolExecutor(max_workers=min(32, len(addresses))) as pool:
        return {a: name for a, name in zip(addresses, pool.map(ptr_name, addresses)) if name}


def _credentials(run: DiscoveryRun) -> list[SNMPCredential]:
    if run.rule is not None:
        return [rc.credential for rc in run.rule.rule_credentials.select_related("credential")]
    found = SNMPCredential.objects.in_bulk(run.credential_ids)
    return [found[pk] for pk in run.credential_ids if pk in found]


def _answered(probe: HostProbe | None) -> bool:
    return probe is not None and (probe.snmp is not None or bool(probe.open_ports))


def _record(run: DiscoveryRun, address: str, rtt: float | None, probe: HostProbe | None, hostname: str,
            rules: Sequence[classifier.Rule]) -> DiscoveryResult:
    result = DiscoveryResult(run=run, ip=address, hostname=hostname[:255], alive=True, rtt_ms=rtt,
                             open_ports=list(probe.open_ports) if probe else [])
    if probe is not None and probe.snmp is not None:
        facts = probe.snmp.facts
        kind = classifier.classify(facts.sys_object_id, facts.sys_descr, rules)
        result.snmp_reachable, result.credential_id = True, probe.snmp.credential_id
        result.sys_name, result.sys_descr, result.sys_object_id = facts.sys_name[:255], facts.sys_descr, \
            facts.sys_object_id[:255]
        result.sys_location, result.engine_id = facts.sys_location[:255], facts.engine_id[:130]
        result.uptime_seconds = facts.sys_uptime_seconds
        result.serial, result.model = facts.serial[:100], (facts.model or kind.model)[:100]
        result.macs = sorted(facts.macs)
        result.neighbors = [n.__dict__ for n in facts.neighbors]
        result.vendor, result.device_type = kind.vendor[:100], kind.device_type
        result.os, result.os_version = kind.os[:100], kind.os_version[:100]
    result.save()
    return result


@dataclass(frozen=True)
class _Progress:
    """Writes the percent done (at most 99 until the end) to the run, and tells the caller."""

    run_id: int
    tell: Callable[[int], None] | None

    def __call__(self, percent: int, **fields) -> None:
        percent = min(99, percent)
        DiscoveryRun.objects.filter(pk=self.run_id).update(progress=percent, **fields)
        if self.tell:
            self.tell(percent)
