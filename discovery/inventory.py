"""From what a scan found to the inventory: which device a host is (whatever address it answers on), refreshing
what we know of it, and adding new ones to monitoring once."""
from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from devices import services as device_services
from devices.models import Device, DeviceAddress
from discovery.choices import AutoAdd
from discovery.models import DeviceIdentity, DiscoveryResult, DiscoveryRule
from snmp.client import SNMPError
from snmp.services import SNMPConfigError, record_system

logger = logging.getLogger(__name__)


# What some agents report instead of a serial number: never evidence that two hosts are one box.
PLACEHOLDER_SERIALS = frozenset({"", "0", "n/a", "na", "none", "null", "unknown", "not available", "not specified",
                                 "default", "serial", "123456789", "1234567890", "to be filled by o.e.m."})


def real_serial(serial: str) -> str:
    """The serial if it looks like one; "" for placeholders and single repeated characters ("0000", "xxxx")."""
    serial = serial.strip()
    return "" if serial.lower() in PLACEHOLDER_SERIALS or len(set(serial)) == 1 else serial


def identify(result: DiscoveryResult) -> Device | None:
    """The device this host is: same snmpEngineID, else same serial, else same sysName with a MAC in common, else
    the same address (main or alias). An address alone is the last resort: a box that moved is found by its facts."""
    identities = DeviceIdentity.objects.select_related("device")
    for field, value in (("engine_id", result.engine_id), ("serial", real_serial(result.serial))):
        if value and (found := identities.filter(**{field: value}).first()):
            return found.device
    if result.sys_name and result.macs:
        macs = set(result.macs)
        for identity in identities.filter(sys_name=result.sys_name):
            if macs & set(identity.macs):
                return identity.device
    return Device.objects.filter(Q(address=result.ip) | Q(aliases__address=result.ip)).first()


def remember(device: Device, result: DiscoveryResult) -> None:
    """Refresh the device's identity facts and last-seen from this result; keep its address as an alias if new."""
    now = timezone.now()
    facts = {"engine_id": result.engine_id, "serial": real_serial(result.serial), "sys_name": result.sys_name,
             "macs": result.macs, "sys_object_id": result.sys_object_id}
    DeviceIdentity.objects.update_or_create(device=device, defaults={
        **{field: value for field, value in facts.items() if value}, "last_discovered_at": now})
    if result.ip != device.address:
        DeviceAddress.objects.get_or_create(address=result.ip, defaults={
            "device": device, "note": f"found by discovery run {result.run_id}"})
    device_services.mark_seen([device.pk], now)


def add_device(result: DiscoveryResult, rule: DiscoveryRule | None, *, apply_template: bool) -> Device:
    """A new monitored device from a result, with the credential that worked and, if asked, the auto-selected
    template applied (a template that cannot be applied now is logged: the device is added regardless)."""
    with transaction.atomic():
        device = Device.objects.create(
            name=_free_name(result.sys_name or result.hostname or result.ip), address=result.ip,
            device_type=result.device_type, vendor=result.vendor[:100], model=result.model[:100],
            os_version=" ".join(filter(None, (result.os, result.os_version)))[:100],
            group=rule.device_group if rule else None, icmp_enabled=result.rtt_ms is not None,
            snmp_enabled=result.credential_id is not None, snmp_credential_id=result.credential_id,
            description=f"Added by discovery run {result.run_id}.")
        if result.snmp_reachable:
            record_system(device, {"sys_descr": result.sys_descr, "sys_object_id": result.sys_object_id,
                                   "sys_name": result.sys_name})
        remember(device, result)
        DiscoveryResult.objects.filter(pk=result.pk).update(matched_device=device, added_to_monitoring=True)
    if apply_template and result.snmp_reachable:
        from templates_app.applier import auto_apply

        try:
            auto_apply(device)
        except (SNMPError, SNMPConfigError) as exc:
            logger.warning("discovery: template for %s not applied: %s", device, exc)
    return device


def settle(result: DiscoveryResult, rule: DiscoveryRule | None, policy: str) -> tuple[str, Device | None]:
    """Match the result to a device (refreshing it) or, as `policy` says, add it: ("updated" or "new", the device),
    or ("", None). Only hosts that answered SNMP are added on their own; ping-only ones wait for "add to
    monitoring"."""
    device = identify(result)
    if device is not None:
        remember(device, result)
        DiscoveryResult.objects.filter(pk=result.pk).update(matched_device=device)
        return "updated", device
    if policy == AutoAdd.OFF or not result.snmp_reachable:
        return "", None
    return "new", add_device(result, rule, apply_template=policy == AutoAdd.ADD_AND_APPLY)


def add_results(results: list[DiscoveryResult], *, apply_template: bool = True
                ) -> tuple[list[Device], dict[str, str]]:
    """The "add to monitoring" action: each result becomes a device, or is matched to the one it already is.
    Returns the devices and, by address, the hosts left out with why: one that answered neither ping nor SNMP
    (only a TCP port) could not be monitored."""
    devices, skipped = [], {}
    for result in results:
        device = identify(result)
        if device is None and result.rtt_ms is None and not result.snmp_reachable:
            skipped[result.ip] = (f"answered neither ping nor SNMP (only TCP {', '.join(map(str, result.open_ports))}"
                                  "): nothing could monitor it")
            continue
        if device is None:
            device = add_device(result, result.run.rule, apply_template=apply_template)
        else:
            remember(device, result)
            DiscoveryResult.objects.filter(pk=result.pk).update(matched_device=device)
        devices.append(device)
    return devices, skipped


def _free_name(wanted: str) -> str:
    name, number = wanted[:120], 2
    while Device.objects.filter(name=name).exists():
        name, number = f"{wanted[:120]}-{number}", number + 1
    return name
