"""A few objects of each kind for the API fuzz (tests/test_fuzz_api.py) to find, read, change and delete.

Run by `manage.py shell` with the sealed server's environment (tests/sealed_api.py), before the server starts.
Addresses are documentation ranges: the server that is fuzzed has no route to anything but its own loopback.
"""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils import timezone

from alerts.choices import AlertStatus
from alerts.models import Alert, AlertRule, MaintenanceWindow
from devices.models import Device, DeviceGroup, Tag
from discovery.models import DiscoveryResult, DiscoveryRule, DiscoveryRun
from snmp.models import Interface, MonitoringItem, SNMPCredential


def seed(admin: str) -> None:
    """Two devices with interfaces and items, a rule with a firing and an acknowledged resolved alert, a
    maintenance window, a discovery rule with a finished run and its result."""
    user = get_user_model().objects.create_superuser(admin, f"{admin}@example.com", None)
    group = DeviceGroup.objects.create(name="site-a")
    tag = Tag.objects.create(name="core")
    credential = SNMPCredential.objects.create(name="lab", community="fuzz-community")
    devices = [Device.objects.create(name=f"sw{i}", address=f"203.0.113.{i}", group=group, snmp_credential=credential)
               for i in (1, 2)]
    devices[0].tags.add(tag)
    for device in devices:
        Interface.objects.create(device=device, if_index=1, name="eth0")
        MonitoringItem.objects.create(device=device, name="uptime", metric="uptime", oid="1.3.6.1.2.1.1.3.0")
    rule = AlertRule.objects.create(name="device down", expression="icmp_up == 0", severity="high")
    now = timezone.now()
    Alert.objects.create(rule=rule, device=devices[0], fingerprint="a", labels={"device": "sw1"}, severity="high",
                         status=AlertStatus.FIRING, pending_since=now, triggered_at=now, last_seen_at=now, value=0)
    Alert.objects.create(rule=rule, device=devices[1], fingerprint="b", labels={"device": "sw2"}, severity="high",
                         status=AlertStatus.RESOLVED, pending_since=now, triggered_at=now, last_seen_at=now,
                         resolved_at=now, acknowledged_at=now, acknowledged_by=user, acknowledgement="known")
    MaintenanceWindow.objects.create(name="night", starts_at=now, duration_minutes=60)
    discovery_rule = DiscoveryRule.objects.create(name="lab scan", targets="10.0.0.0/29")
    run = DiscoveryRun.objects.create(rule=discovery_rule, targets="10.0.0.0/29", state="finished", addresses=8, alive=1)
    DiscoveryResult.objects.create(run=run, ip="10.0.0.1", alive=True, rtt_ms=0.5, open_ports=[22])
