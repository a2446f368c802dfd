"""Which device a found host is: by its facts before its address, and never by a placeholder serial."""
from __future__ import annotations

import pytest

from devices.models import Device
from discovery import inventory
from discovery.models import DiscoveryResult, DiscoveryRun

pytestmark = pytest.mark.django_db


def found(ip: str, **facts) -> DiscoveryResult:
    run = DiscoveryRun.objects.create(targets=ip)
    return DiscoveryResult.objects.create(run=run, ip=ip, alive=True, rtt_ms=1.0, snmp_reachable=True, **facts)


def test_a_host_is_known_by_engine_id_serial_or_name_and_mac_before_its_address():
    core = Device.objects.create(name="core-1", address="192.0.2.1")
    inventory.remember(core, found("192.0.2.1", engine_id="80001f88aa", serial="FOC1234X0AB", sys_name="core-1",
                                   macs=["00:1b:17:00:00:01", "00:1b:17:00:00:02"]))
    assert inventory.identify(found("192.0.2.7", engine_id="80001f88aa")) == core
    assert inventory.identify(found("192.0.2.8", serial=" FOC1234X0AB ")) == core
    assert inventory.identify(found("192.0.2.9", sys_name="core-1", macs=["00:1b:17:00:00:02"])) == core
    assert inventory.identify(found("192.0.2.10", sys_name="core-1", macs=["00:1b:17:00:00:99"])) is None
    assert inventory.identify(found("192.0.2.1")) == core  # the address, as a last resort


@pytest.mark.parametrize("placeholder", ["N/A", "0", "00000000", "Unknown", "To Be Filled By O.E.M.", " "])
def test_a_placeholder_serial_never_makes_two_boxes_one(placeholder):
    first = Device.objects.create(name="access-1", address="192.0.2.21")
    inventory.remember(first, found("192.0.2.21", serial=placeholder, sys_name="access-1"))
    assert first.identity.serial == ""
    assert inventory.identify(found("192.0.2.22", serial=placeholder, sys_name="access-2")) is None
