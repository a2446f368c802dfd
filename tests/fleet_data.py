"""A fleet of every kind of row, grown on demand: `populate(k)` adds k more of each (query-count tests, benchmarks).

Each call adds k "units": a device with its group, tags, credential, addresses, interfaces, items, statuses, template,
rules, alerts (ours and Zabbix's), deliveries, windows, discovery rows, Zabbix host, users, tokens, audit entries and
schedules, all related to each other as in a real fleet. Each unit also hangs one interface, item, alert and state
change off the hub device (`fleet-hub`) and one item and trigger off the hub template, so pages of one object grow
too. Only loopback addresses (127.20.0.0/14) and loopback URLs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from auditlog.models import LogEntry
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule

from alerts.choices import AlertSource, AlertStatus, DeliveryEvent, DeliveryStatus
from alerts.models import Alert, AlertRule, Delivery, MaintenanceWindow, NotificationChannel, RuleOverride
from devices.choices import DeviceState
from devices.models import Device, DeviceAddress, DeviceGroup, DeviceStateChange, MonitoringProfile, Tag
from discovery.choices import RunState
from discovery.models import (
    AllowedNetwork, DeviceIdentity, DiscoveryResult, DiscoveryRule, DiscoveryRun, RuleCredential)
from icmp.models import PingSettings, PingStatus
from snmp.models import Interface, MonitoringItem, SNMPCredential, SNMPStatus
from templates_app.models import MonitoringTemplate, TemplateAssignment, TemplateItem, TemplateTrigger
from wardsite.roles import VIEWER
from zabbix_bridge.models import ZabbixHost, ZabbixProblem, ZabbixServer

PREFIX = "fleet-"
HUB = f"{PREFIX}hub"


def address(block: int, n: int) -> str:
    """The n-th loopback address of a block: 127.(20+block).x.y, never outside 127.0.0.0/8."""
    return f"127.{20 + block}.{n // 250}.{n % 250 + 1}"


@dataclass
class Units:
    """The numbers of the units being added, and what was made for them (lists in unit order)."""

    numbers: range
    hub: Device
    hub_template: MonitoringTemplate
    made: dict[str, list] = field(default_factory=dict)

    def names(self, kind: str) -> list[str]:
        return [f"{PREFIX}{kind}-{n}" for n in self.numbers]

    def add(self, model, rows: list) -> list:
        """bulk_create the rows; kept under the model's name for the kinds made after it."""
        self.made[model.__name__] = model.objects.bulk_create(rows)
        return self.made[model.__name__]

    def __getitem__(self, model: type | str) -> list:
        return self.made[model if isinstance(model, str) else model.__name__]


@transaction.atomic
def populate(k: int) -> Units:
    """Add k units of every kind (see the module's docstring); call again to grow the same fleet."""
    hub, _ = Device.objects.get_or_create(name=HUB, defaults={"address": address(4, 0)})
    template, _ = MonitoringTemplate.objects.get_or_create(key=HUB, defaults={"name": HUB})
    start = Device.objects.filter(name__startswith=PREFIX).exclude(pk=hub.pk).count()
    units = Units(range(start, start + k), hub, template)
    for build in (_users, _inventory, _snmp, _templates, _alerts, _discovery, _zabbix, _accounts, _schedules):
        build(units)
    return units


def _inventory(u: Units) -> None:
    groups = u.add(DeviceGroup, [DeviceGroup(name=name) for name in u.names("group")])
    tags = u.add(Tag, [Tag(name=name) for name in u.names("tag")])
    credentials = u.add(SNMPCredential, [SNMPCredential(name=name, community=f"secret-{name}")
                                         for name in u.names("credential")])
    now = timezone.now()
    devices = u.add(Device, [
        Device(name=name, address=address(0, n), group=group, snmp_credential=credential, snmp_enabled=True,
               parent=u.hub, state=DeviceState.UP, last_seen=now)
        for n, name, group, credential in zip(u.numbers, u.names("device"), groups, credentials)])
    _link(Device.tags, [(d, tag) for d, t in zip(devices, tags) for tag in {t, tags[0]}])
    u.add(DeviceAddress, [DeviceAddress(device=d, address=address(block, n)) for n, device in zip(u.numbers, devices)
                          for block, d in ((1, device), (3, u.hub))])
    DeviceStateChange.objects.bulk_create(
        DeviceStateChange(device=d, previous=DeviceState.UNKNOWN, new=DeviceState.UP, reason="fleet")
        for d in [*devices, *[u.hub] * len(devices)])
    u.add(PingStatus, [PingStatus(device=d, checked_at=now, rtt_avg_ms=1.5, packet_loss=0) for d in devices])
    u.add(PingSettings, [PingSettings(device=d, interval_seconds=60, packets=3, packet_interval_ms=100,
                                      timeout_ms=500, down_after=3) for d in devices])
    MonitoringProfile.objects.bulk_create(MonitoringProfile(name=name, is_active=False)
                                          for name in u.names("profile"))


def _snmp(u: Units) -> None:
    devices = u[Device]
    u.add(SNMPStatus, [SNMPStatus(device=d, reachable=True, sys_name=d.name) for d in devices])
    Interface.objects.bulk_create(
        Interface(device=d, if_index=n + 1, name=f"Gi0/{n}", oper_status=1, admin_status=1)
        for n, device in zip(u.numbers, devices) for d in (device, u.hub))
    u.add(DeviceIdentity, [DeviceIdentity(device=d, sys_name=d.name, serial=f"SN{n}")
                           for n, d in zip(u.numbers, devices)])


def _templates(u: Units) -> None:
    templates = u.add(MonitoringTemplate, [MonitoringTemplate(key=name, name=name) for name in u.names("template")])
    items = TemplateItem.objects.bulk_create(
        TemplateItem(template=t, key=f"fleet_metric_{n}", oid=f"1.3.6.1.4.1.9999.{n}.0")
        for n, template in zip(u.numbers, templates) for t in (template, u.hub_template))
    u.add(TemplateTrigger, [TemplateTrigger(template=t, name=f"trigger-{n}", expression=f"fleet_metric_{n} > 90")
                            for n, template in zip(u.numbers, templates) for t in (template, u.hub_template)])
    u.add(TemplateAssignment, [TemplateAssignment(device=d, template=t, applied_version=1)
                               for device, t in zip(u[Device], templates) for d in (device, u.hub)])
    MonitoringItem.objects.bulk_create(
        MonitoringItem(device=d, name=item.key, metric=item.key, oid=item.oid, template_item=item, last_value="1")
        for device, pair in zip(u[Device], zip(items[::2], items[1::2])) for d, item in zip((device, u.hub), pair))


def _alerts(u: Units) -> None:
    channels = u.add(NotificationChannel, [
        NotificationChannel(name=name, kind="webhook", secret_settings={"url": f"http://127.0.0.1:9/{name}"})
        for name in u.names("channel")])
    rules = u.add(AlertRule, [AlertRule(name=name, expression="avg(cpu_usage) > 90", template_trigger=trigger)
                              for name, trigger in zip(u.names("rule"), u[TemplateTrigger][::2])])
    scopes = {AlertRule.devices: u[Device], AlertRule.groups: u[DeviceGroup], AlertRule.tags: u[Tag],
              AlertRule.templates: u[MonitoringTemplate], AlertRule.channels: channels,
              AlertRule.escalation_channels: channels}
    for relation, related in scopes.items():
        _link(relation, list(zip(rules, related)))
    RuleOverride.objects.bulk_create(RuleOverride(rule=r, device=d, enabled=False)
                                     for r, device in zip(rules, u[Device]) for d in (device, u.hub))
    now = timezone.now()
    alerts = Alert.objects.bulk_create(
        Alert(rule=rule, device=d, fingerprint=f"{n}-{d.pk}", labels={"device": d.name, "ifName": f"Gi0/{n}"},
              status=AlertStatus.FIRING, severity=rule.severity, value=95.0, pending_since=now, triggered_at=now,
              last_seen_at=now, acknowledged_at=now, acknowledged_by=user)
        for n, rule, device, user in zip(u.numbers, rules, u[Device], u[User]) for d in (device, u.hub))
    u.made["Alert"] = alerts
    Delivery.objects.bulk_create(Delivery(alert=a, channel=c, event=DeliveryEvent.FIRING, status=DeliveryStatus.SENT,
                                          duration_ms=5) for a, c in zip(alerts[::2], channels))
    windows = u.add(MaintenanceWindow, [MaintenanceWindow(name=name, starts_at=now, ends_at=now + timedelta(hours=1))
                                        for name in u.names("window")])
    for relation, related in {MaintenanceWindow.devices: u[Device], MaintenanceWindow.groups: u[DeviceGroup],
                              MaintenanceWindow.tags: u[Tag]}.items():
        _link(relation, list(zip(windows, related)))


def _discovery(u: Units) -> None:
    AllowedNetwork.objects.bulk_create(AllowedNetwork(network=f"127.{20 + n // 250}.{n % 250}.0/24")
                                       for n in u.numbers)
    crontabs = CrontabSchedule.objects.bulk_create(CrontabSchedule(minute=str(n % 60), hour=str(n // 60 % 24))
                                                   for n in u.numbers)
    tasks = PeriodicTask.objects.bulk_create(PeriodicTask(name=f"Discovery: {name}", task="discovery.run_rule",
                                                          crontab=c) for name, c in zip(u.names("scan"), crontabs))
    rules = u.add(DiscoveryRule, [DiscoveryRule(name=name, targets=f"{address(2, n)}/32", device_group=group,
                                                schedule=task)
                                  for n, name, group, task in zip(u.numbers, u.names("scan"), u[DeviceGroup], tasks)])
    RuleCredential.objects.bulk_create(RuleCredential(rule=r, credential=c) for r, c in zip(rules, u[SNMPCredential]))
    runs = u.add(DiscoveryRun, [DiscoveryRun(rule=r, targets=r.targets, state=RunState.FINISHED, progress=100,
                                             requested_by=user) for r, user in zip(rules, u[User])])
    u.add(DiscoveryResult, [DiscoveryResult(run=run, ip=address(2, n), alive=True, snmp_reachable=True,
                                            credential=c, matched_device=d, sys_name=d.name)
                            for n, run, c, d in zip(u.numbers, runs, u[SNMPCredential], u[Device])])


def _zabbix(u: Units) -> None:
    intervals = IntervalSchedule.objects.bulk_create(IntervalSchedule(every=n + 1, period=IntervalSchedule.MINUTES)
                                                     for n in u.numbers)
    tasks = PeriodicTask.objects.bulk_create(PeriodicTask(name=f"Zabbix: {name}", task="zabbix_bridge.sync",
                                                          interval=i) for name, i in zip(u.names("zabbix"), intervals))
    servers = u.add(ZabbixServer, [
        ZabbixServer(name=name, url=f"http://127.0.0.1:9/{name}/api_jsonrpc.php", api_token="token", schedule=task)
        for name, task in zip(u.names("zabbix"), tasks)])
    now = timezone.now()
    u.add(ZabbixHost, [ZabbixHost(server=s, hostid=str(10_000 + n), device=d, host=d.name, visible_name=d.name,
                                  synced_at=now) for n, s, d in zip(u.numbers, servers, u[Device])])
    alerts = Alert.objects.bulk_create(
        Alert(source=AlertSource.ZABBIX, name=f"Zabbix problem {n}", device=d, fingerprint=f"zabbix-{n}",
              labels={"device": d.name}, status=AlertStatus.FIRING, severity="high", pending_since=now,
              last_seen_at=now) for n, d in zip(u.numbers, u[Device]))
    u.add(ZabbixProblem, [ZabbixProblem(server=s, eventid=str(n + 1), triggerid=str(n + 1), alert=a,
                                        acknowledges=[{"clock": 0, "user": "noc", "message": "seen"}])
                          for n, s, a in zip(u.numbers, servers, alerts)])


def _users(u: Units) -> None:
    """Viewers, each also in a team of their own."""
    users = u.add(User, [User(username=name, password="!") for name in u.names("user")])
    teams = u.add(Group, [Group(name=name) for name in u.names("team")])
    viewers = Group.objects.get(name=VIEWER)
    _link(User.groups, [(user, group) for user, team in zip(users, teams) for group in (viewers, team)])


def _link(relation, pairs: list[tuple]) -> None:
    """Many-to-many rows of `relation` (e.g. AlertRule.devices) in one INSERT: (owner, related) pairs."""
    through, rel = relation.through, relation.field
    through.objects.bulk_create(through(**{rel.m2m_field_name(): a, rel.m2m_reverse_field_name(): b})
                                for a, b in pairs)


def _accounts(u: Units) -> None:
    """Tokens of the fleet's users, and audit entries of changes they made to devices."""
    from knox.models import AuthToken

    for user in u[User]:
        AuthToken.objects.create(user, expiry=timedelta(days=1))
    kind = ContentType.objects.get_for_model(Device)
    LogEntry.objects.bulk_create(
        LogEntry(content_type=kind, object_pk=str(d.pk), object_id=d.pk, object_repr=d.name,
                 action=LogEntry.Action.UPDATE, changes={"vendor": ["", "Fleet"]}, actor=user,
                 remote_addr="127.0.0.1", additional_data={"request": "PATCH /api/v1/devices/"})
        for d, user in zip(u[Device], u[User]))


def _schedules(u: Units) -> None:
    """One schedule of each kind django-celery-beat has, each with its periodic task."""
    now = timezone.now()
    clocked = ClockedSchedule.objects.bulk_create(ClockedSchedule(clocked_time=now) for _ in u.numbers)
    solar = SolarSchedule.objects.bulk_create(SolarSchedule(event="sunrise", latitude=n % 8000 / 100, longitude=0)
                                              for n in u.numbers)
    PeriodicTask.objects.bulk_create(
        PeriodicTask(name=name, task="wardsite.noop", clocked=c, one_off=True) for name, c in
        zip(u.names("clocked"), clocked))
    PeriodicTask.objects.bulk_create(PeriodicTask(name=name, task="wardsite.noop", solar=s)
                                     for name, s in zip(u.names("solar"), solar))


def grant_tokens(user: User, k: int) -> None:
    """k more API tokens of `user` (the token listing shows one's own)."""
    from knox.models import AuthToken

    for _ in range(k):
        AuthToken.objects.create(user, expiry=timedelta(days=1))
