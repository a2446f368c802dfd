"""Acknowledging both ways with a real Zabbix 6.0 (tests/zabbix_server.py): ours reach Zabbix, Zabbix's reach
us at the next sync, a refusal changes nothing here, and a problem resolved in Zabbix resolves here."""
from __future__ import annotations

import pytest

from alerts.choices import AlertStatus
from alerts.models import Alert
from devices.choices import MonitoringMode
from devices.models import MonitoringProfile
from zabbix_bridge.models import ZabbixServer
from zabbix_bridge.services import sync_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def problem(zabbix, zabbix_prefix):
    """One host whose trigger (manual close off) has a real problem, synced into an alert; (alert, eventid)."""
    MonitoringProfile.objects.create(name="default", mode=MonitoringMode.HYBRID)
    return _problem(zabbix, zabbix_prefix, manual_close=False)


def _problem(zabbix, prefix: str, *, manual_close: bool):
    group = f"{prefix}g"
    host = zabbix.host(f"{prefix}h", groupids=(zabbix.group(group),), ip="127.0.0.10")
    zabbix.trapper(host, manual_close=manual_close)
    eventid = zabbix.raise_problem(host)[0]["eventid"]
    server = ZabbixServer.objects.create(name=prefix, url=zabbix.url, api_token=zabbix.api_token, host_groups=[group])
    sync_server(server.pk)
    return Alert.objects.get(zabbix_problem__eventid=eventid), eventid, host, server


def zabbix_acks(zabbix, eventid: str) -> tuple[str, list[str]]:
    found = zabbix.call("problem.get", {"eventids": [eventid], "selectAcknowledges": "extend"})
    return found[0]["acknowledged"], [a["message"] for a in found[0]["acknowledges"]]


def test_an_acknowledgement_made_here_appears_in_zabbix(problem, zabbix, api, admin_user):
    alert, eventid, _, server = problem
    answer = api.post(f"/api/v1/monitoring/alerts/{alert.pk}/acknowledge", {"comment": "on it, fibre cut"})

    assert answer.status_code == 200 and answer.json()["acknowledged_by"] == admin_user.username
    assert zabbix_acks(zabbix, eventid) == ("1", ["on it, fibre cut"])
    sync_server(server.pk)  # Zabbix now says acknowledged too: ours stays ours
    alert.refresh_from_db()
    assert (alert.acknowledged_by, alert.acknowledgement) == (admin_user, "on it, fibre cut")


def test_an_acknowledgement_made_in_zabbix_appears_here_at_the_next_sync(problem, zabbix, api, admin_client):
    alert, eventid, _, server = problem
    zabbix.call("event.acknowledge", {"eventids": [eventid], "action": 6, "message": "looking at it"})
    assert Alert.objects.get(pk=alert.pk).acknowledged_at is None
    sync_server(server.pk)

    alert.refresh_from_db()
    assert alert.acknowledged_at is not None and alert.acknowledged_by is None
    assert alert.acknowledgement == "Admin: looking at it"
    [event] = api.get("/api/v1/zabbix/problems/", {"alert": alert.pk}).json()["results"]
    assert [(a["user"], a["message"]) for a in event["acknowledges"]] == [("Admin", "looking at it")]
    page = admin_client.get("/admin/zabbix_bridge/zabbixproblem/").content.decode()
    assert "Admin: looking at it" in page


def test_a_problem_resolved_in_zabbix_is_resolved_after_the_next_sync(problem, zabbix):
    alert, _, host, server = problem
    zabbix.send(host.host, "icmpping", 1)
    zabbix.wait_problem(host.hostid, present=False)
    assert Alert.objects.get(pk=alert.pk).status == AlertStatus.FIRING
    assert sync_server(server.pk).resolved == 1
    assert Alert.objects.get(pk=alert.pk).status == AlertStatus.RESOLVED


def test_zabbix_refusing_to_close_changes_nothing_here(problem, zabbix, api):
    alert, eventid, _, _ = problem
    answer = api.post(f"/api/v1/monitoring/alerts/{alert.pk}/resolve")

    assert answer.status_code == 409
    assert "Cannot close problem: trigger does not allow manual closing." in answer.json()["detail"]
    assert Alert.objects.get(pk=alert.pk).status == AlertStatus.FIRING
    assert zabbix.call("problem.get", {"eventids": [eventid]})  # still open there


def test_resolving_here_closes_it_in_zabbix_where_the_trigger_allows(zabbix, zabbix_prefix, api):
    MonitoringProfile.objects.create(name="default", mode=MonitoringMode.HYBRID)
    alert, eventid, host, _ = _problem(zabbix, zabbix_prefix, manual_close=True)
    assert api.post(f"/api/v1/monitoring/alerts/{alert.pk}/resolve").status_code == 200
    assert Alert.objects.get(pk=alert.pk).status == AlertStatus.RESOLVED
    zabbix.wait_problem(host.hostid, present=False)  # the server's task manager closes it


def test_an_unreachable_zabbix_refuses_the_acknowledgement(problem, zabbix, api):
    alert, eventid, _, server = problem
    ZabbixServer.objects.filter(pk=server.pk).update(url="http://127.0.0.1:1/api_jsonrpc.php")
    answer = api.post(f"/api/v1/monitoring/alerts/{alert.pk}/acknowledge", {"comment": "x"})

    assert answer.status_code == 409 and "cannot reach http://127.0.0.1:1/" in answer.json()["detail"]
    assert Alert.objects.get(pk=alert.pk).acknowledged_at is None
    assert zabbix_acks(zabbix, eventid) == ("0", [])
