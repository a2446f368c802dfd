"""The discovery API and command on loopback: rules with ordered credentials and a schedule, a scan queued at once,
its results, adding them (once), and the refusals with the field named."""
from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_celery_beat.models import PeriodicTask

from devices.models import Device
from discovery import scanner
from discovery.models import AllowedNetwork, DiscoveryRule, DiscoveryRun
from snmp.models import SNMPCredential

pytestmark = pytest.mark.django_db
API = "/api/v1/monitoring/discovery"


@pytest.fixture
def loopback(db, settings):
    settings.DISCOVERY_REVERSE_DNS = False  # no DNS traffic from tests
    AllowedNetwork.objects.create(network="127.0.0.0/8", description="tests")


@pytest.fixture
def credentials(db) -> list[SNMPCredential]:
    return [SNMPCredential.objects.create(name=name, version="v2c", community=name) for name in ("lab", "legacy")]


def test_a_rule_keeps_its_credentials_in_order_and_its_schedule_is_a_beat_crontab(api, loopback, credentials):
    created = api.post(f"{API}/rules", {"name": "lab", "targets": "127.0.1.0/24", "credentials": ["legacy", "lab"],
                                        "schedule": "weekly", "auto_add": "add_apply"}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["credentials"] == ["legacy", "lab"] and created.json()["schedule"] == "0 3 * * 0"
    rule = DiscoveryRule.objects.get(name="lab")
    task = PeriodicTask.objects.get(pk=rule.schedule_id)
    assert (task.task, task.args, task.enabled) == ("discovery.run_rule", f"[{rule.pk}]", True)
    changed = api.patch(f"{API}/rules/{rule.pk}", {"enabled": False, "schedule": "15 */6 * * *"}, format="json")
    assert changed.json()["schedule"] == "15 */6 * * *" and changed.json()["credentials"] == ["legacy", "lab"]
    assert not PeriodicTask.objects.get(pk=task.pk).enabled  # a disabled rule is not scanned on its schedule
    api.delete(f"{API}/rules/{rule.pk}")
    assert not PeriodicTask.objects.filter(pk=task.pk).exists()


@pytest.mark.parametrize("body, field, says", [
    ({"targets": "10.0.0.0/33"}, "targets", "'10.0.0.0/33' is not a network"),
    ({"targets": "foo"}, "targets", "'foo' is not an address"),
    ({"targets": "127.0.1.0/24", "exclusions": "bar"}, "exclusions", "'bar' is not an address"),
    ({"targets": "127.0.1.0/24", "credentials": ["nope"]}, "credentials",
     "No SNMP credential has the name or id 'nope'"),
    ({"targets": "127.0.1.0/24", "schedule": "hourly"}, "schedule", "'hourly' is not daily, weekly or a cron"),
    ({"targets": "8.8.8.0/24"}, "targets", "refused by the allow-list: 8.8.8.0/24"),
    ({"targets": "127.0.0.0/8"}, "targets", "refused by the size limit: 16777216 addresses"),
])
def test_a_bad_rule_is_a_400_naming_the_field(api, loopback, credentials, body, field, says):
    answer = api.post(f"{API}/rules", {"name": "bad", **body}, format="json")
    assert answer.status_code == 400 and says in str(answer.json()[field])
    assert not DiscoveryRule.objects.exists()


def test_a_refused_scan_is_a_400_naming_the_safety_rule_and_queues_nothing(api, loopback, settings):
    answer = api.post(f"{API}/scan", {"targets": "192.0.2.0/24"}, format="json")
    assert answer.status_code == 400 and "refused by the allow-list: 192.0.2.0/24" in answer.json()["targets"][0]
    settings.DISCOVERY_MAX_ADDRESSES = 256
    answer = api.post(f"{API}/scan", {"targets": "127.1.0.0/23"}, format="json")
    assert "refused by the size limit: 512 addresses" in answer.json()["targets"][0]
    assert not DiscoveryRun.objects.exists()


def test_a_scan_is_queued_at_once_and_its_results_are_added_to_monitoring_once(api, loopback, credentials):
    answer = api.post(f"{API}/scan", {"targets": "127.0.3.1-3", "credentials": ["lab"]}, format="json")
    assert answer.status_code == 202 and answer.json()["state"] == "queued"
    run = scanner.execute(answer.json()["run"])  # what the worker does with it
    assert (run.state, run.progress, run.addresses, run.alive, run.snmp) == ("finished", 100, 3, 3, 0)
    shown = api.get(f"{API}/runs/{run.pk}").json()
    assert shown["progress"] == 100 and shown["duration_seconds"] >= 0

    results = api.get(f"{API}/results?run={run.pk}").json()["results"]
    assert sorted(r["ip"] for r in results) == ["127.0.3.1", "127.0.3.2", "127.0.3.3"]
    assert {(r["alive"], r["snmp_reachable"], r["matched_device"]) for r in results} == {(True, False, None)}
    ids = [r["id"] for r in results]
    added = api.post(f"{API}/add-devices", {"results": ids}, format="json")
    assert added.status_code == 201 and sorted(d["address"] for d in added.json()["devices"]) == [
        "127.0.3.1", "127.0.3.2", "127.0.3.3"]
    again = api.post(f"{API}/add-devices", {"results": ids}, format="json")
    assert sorted(d["id"] for d in again.json()["devices"]) == sorted(d["id"] for d in added.json()["devices"])
    assert Device.objects.count() == 3  # the same hosts are the same devices

    rerun = scanner.execute(scanner.start(target_text="127.0.3.1-3").pk)
    assert (rerun.updated, rerun.new) == (3, 0)
    assert api.post(f"{API}/add-devices", {"results": [999999]}, format="json").status_code == 400


def test_the_command_scans_lists_and_refuses_with_exit_status_2(loopback, credentials, capsys):
    call_command("discover", "127.0.4.1", "127.0.4.2", "--credential", "lab")
    out = capsys.readouterr().out
    assert "127.0.4.1" in out and "ping only" in out and "2 addresses, 2 alive, 0 SNMP" in out
    for args, says in ((["198.51.100.0/24"], "refused by the allow-list"), (["10.0.0.0/33"], "is not a network"),
                       (["127.0.4.1", "--credential", "nope"], "unknown SNMP credential 'nope'")):
        with pytest.raises(CommandError, match=says) as refused:
            call_command("discover", *args)
        assert refused.value.returncode == 2


def test_ipv6_is_scanned_by_explicit_addresses(api, settings):
    settings.DISCOVERY_REVERSE_DNS = False
    allowed = AllowedNetwork(network="::1")
    allowed.full_clean()  # as the admin does: kept as a network
    allowed.save()
    assert allowed.network == "::1/128"
    answer = api.post(f"{API}/scan", {"targets": "::1"}, format="json")
    run = scanner.execute(answer.json()["run"])
    assert (run.state, run.addresses, run.alive) == ("finished", 1, 1)
    assert run.results.get().ip == "::1"
    refused = api.post(f"{API}/scan", {"targets": "2001:db8::/64"}, format="json")
    assert "IPv6 is scanned by explicit addresses only" in refused.json()["targets"][0]


def test_a_found_host_is_named_by_reverse_lookup(settings):
    """Answered from /etc/hosts ("hosts: files dns"), so no DNS query leaves the machine."""
    from pathlib import Path

    names = [line.split()[1:] for line in Path("/etc/hosts").read_text().splitlines()
             if line.split()[:1] == ["127.0.0.1"]]
    if not names:
        pytest.skip("/etc/hosts names no 127.0.0.1: a lookup would go to DNS")
    settings.DISCOVERY_REVERSE_DNS = True
    assert scanner.reverse_dns(["127.0.0.1"])["127.0.0.1"] in {name for line in names for name in line}
    settings.DISCOVERY_REVERSE_DNS = False
    assert scanner.reverse_dns(["127.0.0.1"]) == {}
