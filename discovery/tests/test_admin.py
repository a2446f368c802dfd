"""The discovery admin: a rule's form (targets refused with the reason, the schedule as a crontab), Scan now, and
adding results to monitoring."""
from __future__ import annotations

import pytest
from django_celery_beat.models import PeriodicTask

from devices.models import Device
from discovery import scanner
from discovery.models import AllowedNetwork, DiscoveryResult, DiscoveryRule, DiscoveryRun

pytestmark = pytest.mark.django_db
RULES = "/admin/discovery/discoveryrule/"


def rule_form(**fields) -> dict:
    return {"name": "lab", "enabled": "on", "targets": "10.20.0.0/24", "exclusions": "", "icmp": "on",
            "tcp_ports": "", "rate_limit": "500", "auto_add": "off", "schedule_cron": "",
            "rule_credentials-TOTAL_FORMS": "0", "rule_credentials-INITIAL_FORMS": "0", **fields}


def test_the_form_refuses_bad_targets_and_a_bad_schedule_and_saves_a_crontab(admin_client):
    page = admin_client.post(f"{RULES}add/", rule_form(targets="10.0.0.0/33", schedule_cron="every day"))
    errors = page.context["adminform"].form.errors
    assert "'10.0.0.0/33' is not a network" in errors["targets"][0]
    assert "'every day' is not daily, weekly or a cron expression" in errors["schedule_cron"][0]
    page = admin_client.post(f"{RULES}add/", rule_form(targets="8.8.8.0/24"))
    assert "refused by the allow-list" in page.context["adminform"].form.errors["targets"][0]
    assert not DiscoveryRule.objects.exists()

    assert admin_client.post(f"{RULES}add/", rule_form(schedule_cron="daily")).status_code == 302
    rule = DiscoveryRule.objects.get()
    task = PeriodicTask.objects.get(pk=rule.schedule_id)
    assert (task.crontab.minute, task.crontab.hour, task.task) == ("0", "3", "discovery.run_rule")
    admin_client.post(f"{RULES}{rule.pk}/change/", rule_form(schedule_cron=""))
    assert not PeriodicTask.objects.filter(pk=task.pk).exists()  # no schedule: no task


def test_scan_now_queues_a_run_and_add_to_monitoring_adds_each_host_once(admin_client, settings):
    settings.DISCOVERY_REVERSE_DNS = False
    AllowedNetwork.objects.create(network="127.0.0.0/8")
    rule = DiscoveryRule.objects.create(name="loopback", targets="127.0.5.1-2")
    page = admin_client.post(RULES, {"action": "scan_now", "_selected_action": [rule.pk]}, follow=True)
    run = DiscoveryRun.objects.get(rule=rule)
    assert [str(m) for m in page.context["messages"]] == [f"loopback: run #{run.pk} queued; follow it under "
                                                          "Discovery runs."]
    scanner.execute(run.pk)
    results = list(DiscoveryResult.objects.filter(run=run).values_list("pk", flat=True))
    for _ in range(2):
        admin_client.post("/admin/discovery/discoveryresult/",
                          {"action": "add_to_monitoring", "_selected_action": results}, follow=True)
    assert sorted(Device.objects.values_list("address", flat=True)) == ["127.0.5.1", "127.0.5.2"]
    assert admin_client.get(f"/admin/discovery/discoveryrun/{run.pk}/change/").status_code == 200
    assert '<progress value="100" max="100"></progress> 100%' in admin_client.get(
        "/admin/discovery/discoveryrun/").content.decode()


@pytest.mark.parametrize("network, error", [
    ("10.0.0.0/33", "'10.0.0.0/33' is not a network"),
    ("bad net", "is not an address"),
    ("10.0.0.1-10.0.0.5", "not a range"),
])
def test_a_bad_allowed_network_is_refused_with_one_error(admin_client, network, error):
    page = admin_client.post("/admin/discovery/allowednetwork/add/", {"network": network})
    errors = page.context["adminform"].form.errors["network"]
    assert len(errors) == 1 and error in errors[0], errors
    assert not AllowedNetwork.objects.exists()


def test_a_rule_shows_each_error_of_its_targets_once(admin_client):
    page = admin_client.post(f"{RULES}add/", rule_form(targets="10.0.0.0/33", exclusions="bad net"))
    errors = page.context["adminform"].form.errors
    assert len(errors["targets"]) == 1 and len(errors["exclusions"]) == 1, errors
