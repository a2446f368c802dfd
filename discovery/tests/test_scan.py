"""A discovery rule scanning the lab /24 (tests/discovery_lab.py) end to end: ICMP sweep, SNMP and TCP probes,
classification, results and inventory; a second run of it; scans refused before anything is sent.

The first scan runs once for the module, inside a transaction rolled back at its end; each test runs in a
savepoint of it (pytest-django's `db`), so a test's own changes are undone after it.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import override_settings

from devices.models import Device, DeviceAddress, DeviceGroup
from discovery import inventory, scanner
from discovery.choices import AutoAdd, RunState
from discovery.models import (
    AllowedNetwork, DeviceIdentity, DiscoveryResult, DiscoveryRule, DiscoveryRun, RuleCredential)
from discovery.targets import ScanRefused
from snmp.models import SNMPCredential
from templates_app.library import load_defaults
from templates_app.models import TemplateAssignment
from tests.discovery_lab import DiscoveryLab

SYS_DESCR = "1.3.6.1.2.1.1.1.0"


@dataclass
class Scanned:
    """The lab's rule, its credentials and its first run."""

    rule: DiscoveryRule
    right: SNMPCredential
    wrong: SNMPCredential
    run: DiscoveryRun


def lab_rule(lab: DiscoveryLab) -> tuple[DiscoveryRule, SNMPCredential, SNMPCredential]:
    """The rule for the lab /24: ICMP, TCP 22 and 443 on ping-silent hosts, a wrong community tried first."""
    wrong = SNMPCredential.objects.create(name="wrong", version="v2c", community=f"not-{lab.community}",
                                          timeout_ms=500, retries=0)
    right = SNMPCredential.objects.create(name="lab", version="v2c", community=lab.community, timeout_ms=1500,
                                          retries=1)
    rule = DiscoveryRule.objects.create(
        name="lab", targets=lab.network, exclusions=lab.monitor, icmp=True, tcp_ports="22,443", rate_limit=5000,
        auto_add=AutoAdd.ADD_AND_APPLY, device_group=DeviceGroup.objects.create(name="lab"))
    # Saved in the other order than their positions: the position decides, not the row order.
    RuleCredential.objects.create(rule=rule, credential=right, position=2)
    RuleCredential.objects.create(rule=rule, credential=wrong, position=1)
    return rule, right, wrong


def scan(lab: DiscoveryLab, rule: DiscoveryRule) -> DiscoveryRun:
    lab.verify_routes()  # nothing leaves but through the lab's veth
    return scanner.execute(scanner.start(rule).pk)


@pytest.fixture(scope="module")
def scanned(discovery_lab, django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(DISCOVERY_REVERSE_DNS=False), transaction.atomic():
        AllowedNetwork.objects.create(network=discovery_lab.network, description="discovery lab")
        load_defaults()  # the templates auto-selection picks from (also loaded by migrate: a no-op then)
        rule, right, wrong = lab_rule(discovery_lab)
        yield Scanned(rule, right, wrong, scan(discovery_lab, rule))
        transaction.set_rollback(True)


@pytest.fixture
def lab(discovery_lab, scanned, db, settings) -> DiscoveryLab:
    settings.DISCOVERY_REVERSE_DNS = False  # no DNS traffic
    return discovery_lab


def addresses(lab: DiscoveryLab, kind: str) -> list[str]:
    return [address for address, what in lab.layout.items() if what.split()[0] == kind]


def test_the_run_finishes_with_the_counts_of_what_answered(lab, scanned):
    run = scanned.run
    new_devices = len(lab.devices)  # only hosts that answered SNMP are added on their own

    assert (run.state, run.progress, run.errors) == (RunState.FINISHED, 100, "")
    assert run.addresses == 253  # the /24's hosts but the monitor's own address
    assert (run.alive, run.snmp) == (len(lab.layout), len(addresses(lab, "snmp")))
    assert (run.new, run.updated) == (new_devices, 0)  # a device on two addresses is one new device
    assert DiscoveryRun.objects.get(pk=run.pk).new == new_devices  # as stored
    assert Device.objects.count() == new_devices


def test_silent_addresses_give_no_result(lab, scanned):
    assert set(scanned.run.results.values_list("ip", flat=True)) == set(lab.layout)


def test_each_snmp_device_is_classified_and_added_once_with_the_credential_that_worked(lab, scanned):
    for device in lab.devices:
        result = scanned.run.results.get(ip=device.address)
        assert (result.alive, result.snmp_reachable, result.credential) == (True, True, scanned.right), device
        assert (result.vendor, result.device_type) == (device.vendor, device.device_type), device
        assert result.sys_descr == lab.recorded(device, SYS_DESCR).decode()
        assert result.uptime_seconds is not None and result.macs, device
        added = Device.objects.get(address=device.address)
        assert (result.matched_device, result.added_to_monitoring) == (added, True)
        assert (added.vendor, added.device_type, added.group) == (device.vendor, device.device_type,
                                                                  scanned.rule.device_group)
        assert (added.snmp_enabled, added.snmp_credential, added.icmp_enabled) == (True, scanned.right, True)


def test_the_auto_selected_template_is_applied(lab, scanned):
    for device in lab.devices:
        assignment = TemplateAssignment.objects.select_related("template").get(device__address=device.address)
        assert (assignment.template.key, assignment.auto) == (device.template, True), device
        assert assignment.applied_at is not None and assignment.device.snmp_items.exists(), device


def test_a_device_on_two_addresses_is_one_device_with_an_alias(lab, scanned):
    (device,) = [d for d in lab.devices if d.aliases]
    (alias,) = device.aliases
    added = Device.objects.get(address=device.address)

    assert DeviceAddress.objects.get(address=alias).device == added
    assert not Device.objects.filter(address=alias).exists()
    result = scanned.run.results.get(ip=alias)
    assert (result.snmp_reachable, result.matched_device, result.added_to_monitoring) == (True, added, False)
    assert added.identity.engine_id == result.engine_id != ""


def test_hosts_answering_only_ping_are_listed_but_not_added(lab, scanned):
    # inventory.settle adds only hosts that answered SNMP; the others wait for the "add to monitoring" action
    for address in addresses(lab, "icmp"):
        result = scanned.run.results.get(ip=address)
        assert (result.alive, result.snmp_reachable, result.credential, result.open_ports) == (True, False, None, [])
        assert result.rtt_ms is not None
        assert (result.matched_device, result.added_to_monitoring) == (None, False)
        assert not Device.objects.filter(address=address).exists()


def test_a_host_dropping_ping_is_found_by_its_open_port(lab, scanned):
    (address,) = addresses(lab, "tcp")
    result = scanned.run.results.get(ip=address)

    assert (result.alive, result.rtt_ms, result.open_ports) == (True, None, list(lab.tcp_only[address]))
    assert (result.snmp_reachable, result.matched_device) == (False, None)
    assert not Device.objects.filter(address=address).exists()
    devices, skipped = inventory.add_results([result])  # by hand: nothing could monitor it, so it is refused
    assert devices == [] and skipped == {address: "answered neither ping nor SNMP (only TCP 443): nothing could "
                                                  "monitor it"}
    assert not Device.objects.filter(address=address).exists()


def test_a_second_run_adds_nothing_and_refreshes_what_it_found(lab, scanned):
    devices = Device.objects.count()
    before = dict(DeviceIdentity.objects.values_list("device_id", "last_discovered_at"))
    seen = dict(Device.objects.values_list("pk", "last_seen"))
    assignments = TemplateAssignment.objects.count()

    run = scan(lab, scanned.rule)

    assert (run.state, run.progress, run.alive) == (RunState.FINISHED, 100, len(lab.layout))
    assert (run.new, run.updated) == (0, len(lab.devices))  # each device once, whatever its addresses
    assert Device.objects.count() == devices and TemplateAssignment.objects.count() == assignments
    assert DeviceAddress.objects.count() == sum(len(device.aliases) for device in lab.devices)
    assert set(run.results.exclude(matched_device=None).values_list("ip", flat=True)) == set(addresses(lab, "snmp"))
    assert not run.results.filter(added_to_monitoring=True).exists()
    after = dict(DeviceIdentity.objects.values_list("device_id", "last_discovered_at"))
    assert set(after) == set(before) and all(after[pk] > before[pk] for pk in before)
    assert all(last_seen > seen[pk] for pk, last_seen in Device.objects.values_list("pk", "last_seen"))


def test_a_scan_outside_the_allow_list_is_refused_before_it_is_queued(lab, scanned):
    outside = DiscoveryRule.objects.create(name="outside", targets="192.0.2.0/24")

    with pytest.raises(ScanRefused, match=r"refused by the allow-list: 192\.0\.2\.0/24 outside"):
        scanner.start(outside)
    with pytest.raises(ScanRefused, match="allow-list"):
        scanner.start(target_text=f"{lab.network}, 192.0.2.7", credential_ids=[scanned.right.pk])
    assert not DiscoveryRun.objects.exclude(pk=scanned.run.pk).exists()


def test_a_scan_over_the_size_limit_is_refused_before_it_is_queued(lab, scanned, settings):
    settings.DISCOVERY_MAX_ADDRESSES = 100

    with pytest.raises(ScanRefused, match=r"refused by the size limit: 256 addresses, more than "
                                          r"DISCOVERY_MAX_ADDRESSES \(100\)"):
        scanner.start(scanned.rule)
    assert not DiscoveryRun.objects.exclude(pk=scanned.run.pk).exists()


def test_a_queued_scan_the_allow_list_no_longer_covers_fails_without_probing(lab, scanned):
    lab.verify_routes()  # were the check to fail, only the lab would be scanned
    run = scanner.start(scanned.rule)
    AllowedNetwork.objects.filter(network=lab.network).delete()

    run = scanner.execute(run.pk)

    assert (run.state, run.alive) == (RunState.FAILED, 0) and "allow-list" in run.errors
    assert not DiscoveryResult.objects.filter(run=run).exists()

