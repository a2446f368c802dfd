"""Which devices and items are due, backoff, the poll delay metric, and beat + worker polling for real."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from devices.models import Device, MonitoringProfile
from snmp import services
from snmp.models import MonitoringItem, SNMPCredential, SNMPStatus
from tests.worker import wait_for
from wardsite.dispatch import next_due
from wardsite.victoria import get_client

SYS_NAME, SYS_UPTIME = "1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.3.0"


@pytest.fixture
def device(snmpd, db) -> Device:
    credential = SNMPCredential.objects.create(name="lab", version="v2c", community=snmpd.community)
    return Device.objects.create(name="agent", address=snmpd.host, snmp_port=snmpd.port, snmp_enabled=True,
                                 snmp_credential=credential, icmp_enabled=False)


def newest(expr: str) -> float | None:
    get_client().flush()  # a new series is searchable only after about 10 s otherwise
    rows = get_client().query(f"last_over_time({expr}[10m])")
    return float(rows[0]["value"][1]) if rows else None


@pytest.mark.django_db
@pytest.mark.usefixtures("snmp_counter_state", "victoria_url")
def test_each_item_is_polled_on_its_own_interval_in_one_poll_per_device(device, settings):
    settings.SNMP_DISPATCH_SECONDS = 1
    fast = MonitoringItem.objects.create(device=device, name="sys_name", oid=SYS_NAME, interval_seconds=10,
                                         value_type="string")
    slow = MonitoringItem.objects.create(device=device, name="uptime", oid=SYS_UPTIME, interval_seconds=60)
    t0 = next_due(timedelta(seconds=60), timezone.now(), device.pk)  # one of the device's slots (wardsite.dispatch)

    def poll_at(seconds: float) -> set[str]:
        now = t0 + timedelta(seconds=seconds)
        batches = services.due_batches(now)
        if not batches:
            return set()
        assert batches == [("", [device.pk])]  # one batch, the device once
        (result,) = services.run_batch(batches[0][1], now=now)
        return set(result.items)

    assert poll_at(0) == {"sys_name", "uptime"}
    assert poll_at(5) == set()  # nothing due yet: not even dispatched
    assert poll_at(10.5) == {"sys_name"}
    assert poll_at(20.5) == {"sys_name"}
    assert poll_at(60.5) == {"sys_name", "uptime"}
    fast.refresh_from_db()
    slow.refresh_from_db()
    # both stay on the device's slots; the fast one missed polls at 30-50 s and goes on at its next slot
    assert (fast.next_due_at - t0).total_seconds() == pytest.approx(70, abs=0.001)
    assert (slow.next_due_at - t0).total_seconds() == pytest.approx(120, abs=0.001)


@pytest.mark.django_db
@pytest.mark.usefixtures("snmp_counter_state")
def test_how_late_a_poll_started_is_recorded(device, victoria_url):
    SNMPStatus.objects.create(device=device, next_due_at=timezone.now() - timedelta(seconds=30))
    (queue, ids), = services.due_batches()
    services.run_batch(ids)
    wait_for(lambda: (newest(f'snmp_poll_delay_seconds{{device_id="{device.pk}"}}') or 0) >= 30, 10,
             "a poll delay of at least 30 s")
    status = SNMPStatus.objects.get(device=device)
    assert status.scheduled_at is None and status.next_due_at > timezone.now()


@pytest.mark.django_db
def test_a_claimed_device_is_not_handed_out_twice(device):
    assert [ids for _, ids in services.due_batches()] == [[device.pk]]
    assert services.due_batches() == []  # leased until its batch records the poll


@pytest.mark.django_db
def test_nothing_is_dispatched_in_zabbix_mode_or_without_a_credential(device):
    Device.objects.create(name="no-credential", address="127.0.0.5", snmp_enabled=True)
    MonitoringProfile.objects.create(name="p", mode="zabbix")
    assert services.due_batches() == []
    MonitoringProfile.objects.update(mode="hybrid")
    assert [ids for _, ids in services.due_batches()] == [[device.pk]]


@pytest.mark.django_db
def test_a_group_pinned_to_a_poller_queue_goes_to_that_queue(device):
    from devices.models import DeviceGroup

    device.group = DeviceGroup.objects.create(name="remote site", poller_queue="site-b")
    device.save()
    assert services.due_batches() == [("site-b", [device.pk])]


@pytest.mark.e2e
def test_beat_and_worker_poll_a_device_and_write_rates(celery_stack, snmpd, device):
    status = wait_for(lambda: SNMPStatus.objects.filter(device=device, reachable=True).first(), 60,
                      "the device polled by the worker")
    assert status.sys_name == snmpd.sys_name
    labels = f'device_id="{device.pk}", ifName="lo"'
    wait_for(lambda: newest(f"snmp_if_in_bps{{{labels}}}") is not None, 60, "a traffic rate for lo")
    assert newest(f'snmp_up{{device_id="{device.pk}"}}') == 1.0
    assert newest(f'snmp_poll_delay_seconds{{device_id="{device.pk}"}}') is not None
    device.refresh_from_db()
    assert device.state == "up"  # not pinged: SNMP decides
