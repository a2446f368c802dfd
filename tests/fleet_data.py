"""Rows of every kind the lists show, `k` more per call, for tests that compare a page at two sizes (query counts)
and for benches at fleet size. Loopback addresses and URLs only."""
from __future__ import annotations

import itertools
from datetime import timedelta

from django.utils import timezone

from alerts.models import Alert, AlertRule, Delivery, DeliveryClaim, MaintenanceWindow, NotificationChannel, \
    RuleOverride
from devices.models import Device, DeviceAddress, DeviceGroup, DeviceStateChange, Tag
from discovery.models import AllowedNetwork, DiscoveryResult, DiscoveryRule, DiscoveryRun, RuleCredential
from icmp.models import PingStatus
from snmp.models import Interface, MonitoringItem, SNMPCredential, SNMPStatus
from templates_app.models import MonitoringTemplate, TemplateAssignment, TemplateItem
from zabbix_bridge.models import ZabbixHost, ZabbixProblem, ZabbixServer

_serial = itertools.count(1)


def populate(k: int, *, interfaces: int = 2) -> list[Device]:
    """k devices (in a group, tagged, with a credential, a parent, an alias, statuses, `interfaces` interfaces, an
    item, a template, a state change, an alert with a delivery, a Zabbix host and problem) and k of every other
    kind; returns the devices."""
    n = [next(_serial) for _ in range(k)]
    now = timezone.now()
    tags = Tag.objects.bulk_create([Tag(name=f"tag-{i}") for i in n])
    groups = DeviceGroup.objects.bulk_create([DeviceGroup(name=f"group-{i}") for i in n])
    credentials = SNMPCredential.objects.bulk_create([SNMPCredential(name=f"cred-{i}", version="v2c",
                                                                     community="public") for i in n])
    parent = Device.objects.create(name=f"parent-{n[0]}", address=_address(n[0], 250))
    devices = Device.objects.bulk_create([
        Device(name=f"dev-{i}", address=_address(i, 1), group=group, snmp_credential=credential, parent=parent)
        for i, group, credential in zip(n, groups, credentials)])
    for device, tag in zip(devices, tags):
        device.tags.add(tag)
    DeviceAddress.objects.bulk_create([DeviceAddress(device=d, address=_address(i, 2)) for i, d in zip(n, devices)])
    DeviceStateChange.objects.bulk_create([DeviceStateChange(device=d, previous="up", new="down") for d in devices])
    PingStatus.objects.bulk_create([PingStatus(device=d, checked_at=now, rtt_avg_ms=0.1) for d in devices])
    SNMPStatus.objects.bulk_create([SNMPStatus(device=d, checked_at=now) for d in devices])
    Interface.objects.bulk_create([Interface(device=d, if_index=x, name=f"Gi0/{x}") for d in devices
                                   for x in range(1, interfaces + 1)])
    MonitoringItem.objects.bulk_create([MonitoringItem(device=d, name="cpu_usage", metric="cpu_usage", oid="1.3.6.1.4.1.9.9.109.1.1.1.1.8.1")
                                        for d in devices])
    _templates(n, devices)
    alerts = _alerts(n, devices, now)
    _discovery(n, credentials, now)
    _zabbix(n, devices, alerts, now)
    return devices


def _address(i: int, last: int) -> str:
    return f"127.{100 + i // 250}.{i % 250}.{last}"


def _templates(n: list[int], devices: list[Device]) -> None:
    templates = MonitoringTemplate.objects.bulk_create([MonitoringTemplate(key=f"tpl-{i}", name=f"Template {i}")
                                                        for i in n])
    TemplateItem.objects.bulk_create([TemplateItem(template=t, key="cpu_usage", oid="1.3.6.1.2.1.25.3.3.1.2")
                                      for t in templates])
    TemplateAssignment.objects.bulk_create([TemplateAssignment(device=d, template=t)
                                            for d, t in zip(devices, templates)])


def _alerts(n: list[int], devices: list[Device], now) -> list[Alert]:
    channels = NotificationChannel.objects.bulk_create([
        NotificationChannel(name=f"hook-{i}", kind="webhook", settings={"url": "http://127.0.0.1:9/"}) for i in n])
    rules = AlertRule.objects.bulk_create([AlertRule(name=f"rule-{i}", expression="device_up == 0") for i in n])
    for rule, channel, device in zip(rules, channels, devices):
        rule.channels.add(channel)
        rule.devices.add(device)
    RuleOverride.objects.bulk_create([RuleOverride(rule=r, device=d) for r, d in zip(rules, devices)])
    alerts = Alert.objects.bulk_create([
        Alert(rule=r, device=d, fingerprint=f"fp-{i}", severity="high", status="firing", pending_since=now,
              triggered_at=now, last_seen_at=now, labels={"device_id": str(d.pk), "device": d.name})
        for i, r, d in zip(n, rules, devices)])
    Delivery.objects.bulk_create([Delivery(alert=a, channel=c, event="firing", status="sent", duration_ms=3)
                                  for a, c in zip(alerts, channels)])
    DeliveryClaim.objects.bulk_create([DeliveryClaim(alert=a, channel=c, event="firing", task_id=f"t-{a.pk}",
                                                     state="sent", claimed_at=now) for a, c in zip(alerts, channels)])
    for i, device in zip(n, devices):
        window = MaintenanceWindow.objects.create(name=f"window-{i}", starts_at=now,
                                                  ends_at=now + timedelta(hours=1))
        window.devices.add(device)
    return alerts


def _discovery(n: list[int], credentials: list[SNMPCredential], now) -> None:
    AllowedNetwork.objects.bulk_create([AllowedNetwork(network=f"127.{100 + i % 100}.0.0/24") for i in n],
                                       ignore_conflicts=True)
    rules = DiscoveryRule.objects.bulk_create([DiscoveryRule(name=f"scan-{i}", targets="127.0.0.0/30") for i in n])
    RuleCredential.objects.bulk_create([RuleCredential(rule=r, credential=c) for r, c in zip(rules, credentials)])
    runs = DiscoveryRun.objects.bulk_create([DiscoveryRun(targets="127.0.0.0/30", state="finished", finished_at=now)
                                             for _ in n])
    DiscoveryResult.objects.bulk_create([DiscoveryResult(run=run, ip=f"127.0.0.{x}", alive=True)
                                         for run in runs for x in (1, 2)])


def _zabbix(n: list[int], devices: list[Device], alerts: list[Alert], now) -> None:
    servers = ZabbixServer.objects.bulk_create([ZabbixServer(name=f"zabbix-{i}", url="http://127.0.0.1:9/")
                                                for i in n])
    ZabbixHost.objects.bulk_create([
        ZabbixHost(server=s, hostid=str(i), device=d, host=d.name, visible_name=d.name, synced_at=now)
        for i, s, d in zip(n, servers, devices)])
    ZabbixProblem.objects.bulk_create([ZabbixProblem(server=s, eventid=str(i), triggerid=str(i), alert=a)
                                       for i, s, a in zip(n, servers, alerts)])
