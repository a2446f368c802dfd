"""The SNMP poll path end to end against real agents: discovery, items, counters and rates into VictoriaMetrics."""
from __future__ import annotations

import pytest
from django.utils import timezone
from pysnmp.proto.rfc1902 import Counter32, Counter64, TimeTicks

from devices import services as device_services
from devices.models import Device
from snmp import busiest, services
from snmp.models import Interface, MonitoringItem, SNMPCredential, SNMPStatus
from tests.worker import wait_for
from wardsite.victoria import get_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("snmp_counter_state")]

IF_DESCR, IF_NAME = "1.3.6.1.2.1.2.2.1.2", "1.3.6.1.2.1.31.1.1.1.1"
IF_IN_OCTETS, IF_HC_IN_OCTETS = "1.3.6.1.2.1.2.2.1.10", "1.3.6.1.2.1.31.1.1.1.6"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"


def snmp_device(agent, community: str, name: str | None = None, **fields) -> Device:
    credential = SNMPCredential.objects.create(name=f"{community}-cred", version="v2c", community=community,
                                               timeout_ms=1000, retries=1)
    return Device.objects.create(name=name or community, address=agent.host, snmp_port=agent.port,
                                 snmp_enabled=True, snmp_credential=credential, **fields)


def latest(expr: str) -> dict[str, float]:
    """{ifName or device: value} of the newest sample of each series of `expr` in VictoriaMetrics."""
    get_client().flush()  # a new series is searchable only after about 10 s otherwise
    rows = get_client().query(f"last_over_time({expr}[10m])")
    return {row["metric"].get("ifName", row["metric"]["device"]): float(row["value"][1]) for row in rows}


@pytest.mark.parametrize("community", ["cisco-c3560", "juniper-mx960-12-3r6-6", "huawei-s5720"])
def test_it_discovers_the_interfaces_of_a_real_recording_and_writes_their_counters(snmpsim, victoria_url, community):
    device = snmp_device(snmpsim, community)

    result = services.poll_device(device)

    assert result.error == ""
    descrs = snmpsim.recorded(community, IF_DESCR)
    names = snmpsim.recorded(community, IF_NAME)
    indexes = {int(oid.rsplit(".", 1)[1]) for oid in [*descrs, *names]}
    interfaces = {i.if_index: i for i in Interface.objects.filter(device=device)}
    assert set(interfaces) == indexes
    for oid, (_, name) in names.items():
        assert interfaces[int(oid.rsplit(".", 1)[1])].name == name.decode()
    # the raw counter of each interface is what the recording holds, from the HC column where it has one
    hc, legacy = snmpsim.recorded(community, IF_HC_IN_OCTETS), snmpsim.recorded(community, IF_IN_OCTETS)
    expected = {}
    for index, interface in interfaces.items():
        recorded = hc.get(f"{IF_HC_IN_OCTETS}.{index}") if interface.hc_counters else legacy.get(f"{IF_IN_OCTETS}.{index}")
        if recorded is not None:
            expected[interface.name or interface.descr or str(index)] = float(recorded[1])
    assert expected and any(i.hc_counters for i in interfaces.values())
    assert {name: series["in_octets_total"] for name, series in result.interfaces.items()
            if "in_octets_total" in series} == expected
    wait_for(lambda: latest(f'snmp_if_in_octets_total{{device_id="{device.pk}"}}') == expected, 10,
             "the interface counters in VictoriaMetrics")
    status = SNMPStatus.objects.get(device=device)
    assert status.reachable and status.sys_descr and status.sys_object_id.startswith("1.3.6.1.4.1.")
    assert status.uptime_seconds == snmpsim.recorded(community, "1.3.6.1.2.1.1.3")[SYS_UPTIME][1] // 100


def test_items_are_polled_with_their_types_and_missing_oids_are_reported(snmpsim, victoria_url):
    device = snmp_device(snmpsim, "unknown-006")
    recorded_descr = snmpsim.recorded("unknown-006", "1.3.6.1.2.1.1.1")["1.3.6.1.2.1.1.1.0"][1].decode()
    MonitoringItem.objects.create(device=device, name="uptime_ticks", oid=SYS_UPTIME, value_type="integer")
    MonitoringItem.objects.create(device=device, name="sys_descr", oid="1.3.6.1.2.1.1.1.0", value_type="string")
    MonitoringItem.objects.create(device=device, name="nothing_here", oid="1.3.6.1.4.1.99999.1.0")

    result = services.poll_device(device)

    assert result.items["sys_descr"].value == recorded_descr
    assert result.items["nothing_here"].error.startswith("nosuch")
    uptime = snmpsim.recorded("unknown-006", "1.3.6.1.2.1.1.3")[SYS_UPTIME][1]
    assert result.items["uptime_ticks"].value == str(uptime)
    wait_for(lambda: latest(f'uptime_ticks{{device_id="{device.pk}"}}') == {device.name: float(uptime)}, 10,
             "the item's series", seen=lambda: get_client().query(f'{{device_id="{device.pk}"}}'))
    item = MonitoringItem.objects.get(device=device, name="nothing_here")
    assert item.last_error and item.last_polled_at is not None and item.next_due_at > item.last_polled_at


class TestCounters:
    """Rates from consecutive samples, against an agent whose counters and sysUpTime the test sets."""

    community = "wardflux-counters"

    def set(self, snmpsim, uptime_ticks: int, hc_in: int, legacy_in: int) -> None:
        snmpsim.set(self.community, {SYS_UPTIME: TimeTicks(uptime_ticks), f"{IF_HC_IN_OCTETS}.1": Counter64(hc_in),
                                     f"{IF_IN_OCTETS}.2": Counter32(legacy_in)})

    def rates(self, device: Device) -> dict[str, float]:
        result = services.poll_device(device)
        assert result.error == ""
        return {name: series["in_bps"] for name, series in result.interfaces.items() if "in_bps" in series}

    def test_rates_survive_a_32_bit_wrap_a_reboot_and_a_counter_reset_without_a_spike(self, snmpsim, victoria_url):
        device = snmp_device(snmpsim, self.community)
        self.set(snmpsim, 100_000, hc_in=1_000, legacy_in=2**32 - 1_000)
        assert self.rates(device) == {}  # the first sample has nothing to compare with
        assert {i.name: i.hc_counters for i in Interface.objects.filter(device=device)} == {"eth1": True, "eth2": False}

        # 60 s of uptime later: 750,000 octets in on eth1 (100 kbit/s); eth2's Counter32 wrapped after 1,500 octets
        self.set(snmpsim, 106_000, hc_in=751_000, legacy_in=500)
        assert self.rates(device) == {"eth1": 100_000.0, "eth2": 200.0}
        ranked = [(if_index, rate) for device_id, if_index, rate in busiest.top(100) if device_id == device.pk]
        assert ranked == [(1, 100_000.0), (2, 200.0)]  # the dashboard's busiest interfaces, as polled
        wait_for(lambda: latest(f'snmp_if_in_bps{{device_id="{device.pk}"}}') == {"eth1": 100_000.0, "eth2": 200.0},
                 10, "the rates in VictoriaMetrics")

        # the device rebooted: sysUpTime and counters start again, which is no traffic at all
        self.set(snmpsim, 3_000, hc_in=10, legacy_in=20)
        assert self.rates(device) == {}

        # 30 s later: eth2 cleared its counters (down without a plausible wrap); eth1 saturates its 100 Mbit/s
        self.set(snmpsim, 6_000, hc_in=10 + 30 * 12_500_000 * 2, legacy_in=3_000_000_000)
        assert self.rates(device) == {"eth1": 100_000_000.0, "eth2": 10_000_000.0}  # clamped at the speeds
        self.set(snmpsim, 12_000, hc_in=10 + 30 * 12_500_000 * 2 + 60 * 125_000, legacy_in=10)
        assert self.rates(device) == {"eth1": 1_000_000.0}  # eth2's counter went back without a wrap: a reset

        def peaks() -> dict[str, float]:
            get_client().flush()
            rows = get_client().query(f'max_over_time(snmp_if_in_bps{{device_id="{device.pk}"}}[10m])')
            return {row["metric"]["ifName"]: float(row["value"][1]) for row in rows}

        wait_for(lambda: peaks() == {"eth1": 100_000_000.0, "eth2": 10_000_000.0}, 10, "no rate above the speeds")


def test_a_device_that_times_out_is_backed_off_until_it_is_seen_again(snmpd, victoria_url,
                                                                      django_capture_on_commit_callbacks):
    device = snmp_device(snmpd, "wrong-community", icmp_enabled=False)
    SNMPCredential.objects.filter(pk=device.snmp_credential_id).update(timeout_ms=200, retries=0)
    device.refresh_from_db()

    result = services.poll_device(device)

    assert "no answer" in result.error and "community" in result.error
    status = SNMPStatus.objects.get(device=device)
    assert status.reachable is False and status.consecutive_failures == 1
    first_wait = (status.next_due_at - status.checked_at).total_seconds()
    services.poll_device(device)
    status.refresh_from_db()
    assert status.consecutive_failures == 2
    assert (status.next_due_at - status.checked_at).total_seconds() == pytest.approx(2 * first_wait, abs=1)
    wait_for(lambda: latest(f'snmp_up{{device_id="{device.pk}"}}') == {device.name: 0.0}, 10, "snmp_up = 0")

    with django_capture_on_commit_callbacks(execute=True):  # e.g. ping finds it again
        device_services.set_state(device.pk, "up", reason="replies to ping")
    status.refresh_from_db()
    assert status.next_due_at <= timezone.now() and status.interfaces_due_at <= timezone.now()  # back-off dropped


def test_an_snmp_only_device_goes_down_after_n_timeouts_and_up_when_it_answers(snmpd, victoria_url, settings):
    settings.SNMP_DOWN_AFTER = 2
    device = snmp_device(snmpd, "wrong-community", icmp_enabled=False)
    SNMPCredential.objects.filter(pk=device.snmp_credential_id).update(timeout_ms=200, retries=0)
    device.refresh_from_db()
    services.poll_device(device)
    assert Device.objects.get(pk=device.pk).state == "unknown"
    services.poll_device(device)
    assert Device.objects.get(pk=device.pk).state == "down"
    state = f'device_up{{device_id="{device.pk}"}}'  # the state series the "Device down" rule watches
    wait_for(lambda: latest(state) == {device.name: 0.0}, 10, "device_up = 0")

    SNMPCredential.objects.filter(pk=device.snmp_credential_id).update(community=snmpd.community)
    services.poll_device(Device.objects.get(pk=device.pk))
    device.refresh_from_db()
    assert device.state == "up" and device.last_seen is not None
    assert SNMPStatus.objects.get(device=device).consecutive_failures == 0
    wait_for(lambda: latest(state) == {device.name: 1.0}, 10, "device_up = 1")
