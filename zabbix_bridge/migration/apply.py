"""Carrying out an import plan: credentials, groups, devices and tags in one transaction; then, outside it, the
first SNMP poll of the devices that get templates, and the templates themselves."""
from __future__ import annotations

from django.db import transaction

from devices.choices import DeviceSource, MonitoringMode
from devices.models import Device, DeviceGroup, MonitoringProfile
from zabbix_bridge.hosts import device_groups, sync_tags
from zabbix_bridge.migration.credentials import CredentialChoice, create_missing
from zabbix_bridge.migration.plan import CONVERT, CREATE, UPDATE, HostPlan, Plan
from zabbix_bridge.migration.templates import apply_templates


def apply_plan(plan: Plan) -> None:
    """Make the plan so; a host whose device is already as planned is not touched."""
    with transaction.atomic():
        create_missing(plan.credentials)
        groups = device_groups(set(plan.group_names))
        new = [hp for hp in plan.hosts if hp.action == CREATE]
        devices = Device.objects.bulk_create([Device(**_values(hp.fields, groups)) for hp in new], batch_size=500)
        for hp, device in zip(new, devices):
            hp.device = device
        _update_devices([hp for hp in plan.hosts if hp.action in (CONVERT, UPDATE)], groups)
        both = [hp.device.pk for hp in plan.hosts if hp.action == CONVERT and hp.source_both]
        Device.objects.filter(pk__in=both).update(source=DeviceSource.BOTH)  # editable=False: not a form field
        sync_tags({hp.device.pk: ([], hp.tags) for hp in plan.hosts if hp.tags and hp.device is not None})
    apply_templates([(hp.device, hp.templates) for hp in plan.hosts if hp.templates.pending and hp.device])


def _update_devices(hosts: list[HostPlan], groups: dict[str, DeviceGroup]) -> None:
    changed = sorted({name for hp in hosts for name in hp.fields})
    if not changed:
        return
    for hp in hosts:
        for name, value in _values(hp.fields, groups).items():
            setattr(hp.device, name, value)
    Device.objects.bulk_update([hp.device for hp in hosts if hp.fields], changed, batch_size=500)


def _values(fields: dict[str, object], groups: dict[str, DeviceGroup]) -> dict[str, object]:
    """Plan values as model values: a group name becomes the group, a credential choice its credential."""
    values = dict(fields)
    if "group" in values:
        values["group"] = groups.get(values["group"]) if values["group"] else None
    if isinstance(values.get("snmp_credential"), CredentialChoice):
        values["snmp_credential"] = values["snmp_credential"].credential
    return values


def activate_standalone(dry_run: bool) -> str:
    """Set the active monitoring profile to standalone (making 'default' when there is none); what was (or would
    be) done."""
    profile = MonitoringProfile.objects.filter(is_active=True).first()
    if profile is not None and profile.mode == MonitoringMode.STANDALONE:
        return f"monitoring profile {profile.name!r} is standalone already"
    verb = "would set" if dry_run else "set"
    if profile is None:
        profile = MonitoringProfile.objects.filter(name="default").first() or MonitoringProfile(name="default")
    if not dry_run:
        profile.mode, profile.is_active = MonitoringMode.STANDALONE, True
        profile.save()
    return f"{verb} monitoring profile {profile.name!r} to standalone"
