"""A Zabbix server that cannot be read gives a clear error and leaves the last good sync as it was.

Most cases run against the JSON-RPC stand-in of zabbix_bridge/tests/standin.py answering as Zabbix 7.0 (TLS,
versions and a server that stops answering half-way are knobs there); going away in the middle of a sync is
also tested on the real Zabbix 6.0 (tests/zabbix_server.py).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from alerts.models import Alert
from devices.choices import MonitoringMode
from devices.models import Device, DeviceStateChange, MonitoringProfile
from zabbix_bridge.client import ZabbixClient
from zabbix_bridge.models import ZabbixServer
from zabbix_bridge.services import sync_server
from zabbix_bridge.sync import SyncFailed
from zabbix_bridge.tests.standin import TOKEN, StandIn, self_signed

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced(db):
    """A server synced once from a stand-in 7.0 (its three hosts and problems here), the stand-in still up."""
    MonitoringProfile.objects.create(name="default", mode=MonitoringMode.HYBRID)
    with StandIn("7.0.13") as standin:
        server = ZabbixServer.objects.create(name="zbx", url=standin.url, api_token=TOKEN)
        summary = sync_server(server.pk)
        assert summary.hosts == 3 and Alert.objects.exists()
        yield server, standin


def picture() -> list:
    devices = list(Device.objects.order_by("name").values_list("name", "address", "source", "state", "group__name"))
    alerts = list(Alert.objects.order_by("pk").values_list("name", "status", "severity", "acknowledged_at"))
    return [devices, alerts, DeviceStateChange.objects.count()]


def fails_keeping_the_last_sync(server: ZabbixServer, expected: str) -> str:
    before, last = picture(), ZabbixServer.objects.get(pk=server.pk).last_sync_at
    with pytest.raises(SyncFailed) as failed:
        sync_server(server.pk)
    server.refresh_from_db()
    assert picture() == before and server.last_sync_at == last
    assert str(failed.value) == server.last_error and expected in server.last_error
    return server.last_error


def test_a_wrong_url_says_it_cannot_reach_the_server(synced):
    server, _ = synced
    ZabbixServer.objects.filter(pk=server.pk).update(url="http://127.0.0.1:1/api_jsonrpc.php")
    assert fails_keeping_the_last_sync(server, "cannot reach http://127.0.0.1:1/api_jsonrpc.php")


def test_a_wrong_token_says_zabbix_refused_it(synced):
    server, _ = synced
    server.api_token = "0" * 64
    server.save()
    fails_keeping_the_last_sync(server, "refused the API token")


def test_an_untrusted_certificate_says_so(synced, tmp_path: Path):
    server, _ = synced
    with StandIn("7.0.13", tls=self_signed(tmp_path)) as tls:
        ZabbixServer.objects.filter(pk=server.pk).update(url=tls.url)
        fails_keeping_the_last_sync(server, "not trusted: self-signed certificate")


@pytest.mark.parametrize("version", ["5.0.1", "7.6.0"])
def test_an_unsupported_version_is_named(synced, version):
    server, _ = synced
    with StandIn("7.0.13") as other:
        other.version_text = version
        ZabbixServer.objects.filter(pk=server.pk).update(url=other.url)
        fails_keeping_the_last_sync(server, f"Zabbix {version} is not supported (6.0 to 7.4)")


def test_a_server_going_away_half_way_changes_nothing(synced):
    server, standin = synced
    standin.received.clear()
    standin.answer_only = 4  # version, authentication, groups, host ids: then no more answers
    fails_keeping_the_last_sync(server, standin.url)


def test_going_away_in_the_middle_of_a_real_sync(zabbix, zabbix_prefix, monkeypatch):
    MonitoringProfile.objects.create(name="default", mode=MonitoringMode.HYBRID)
    group = f"{zabbix_prefix}g"
    gid = zabbix.group(group)
    zabbix.host(f"{zabbix_prefix}a", groupids=(gid,), ip="127.0.0.8")
    server = ZabbixServer.objects.create(name="real", url=zabbix.url, api_token=zabbix.api_token,
                                         host_groups=[group])
    sync_server(server.pk)
    zabbix.host(f"{zabbix_prefix}b", groupids=(gid,), ip="127.0.0.9")
    read_problems = ZabbixClient.problems

    def gone_before_the_problems(client, *args, **kwargs):
        zabbix.stop_api()  # Zabbix goes away after the version, login and groups were read
        return read_problems(client, *args, **kwargs)

    monkeypatch.setattr(ZabbixClient, "problems", gone_before_the_problems)
    try:
        fails_keeping_the_last_sync(server, zabbix.url)  # "cannot reach", or "connection ... lost during"
    finally:
        zabbix.start_api()
    assert not Device.objects.filter(name__endswith="-b").exists()


def test_the_test_action_answers_the_version_or_why_not(synced, api):
    server, standin = synced
    assert api.post(f"/api/v1/zabbix/servers/{server.pk}/test").json() == {"ok": True, "version": "7.0.13"}
    server.api_token = "0" * 64
    server.save()
    answer = api.post(f"/api/v1/zabbix/servers/{server.pk}/test").json()
    assert (answer["ok"], answer["kind"]) == (False, "auth") and "refused the API token" in answer["error"]
    answer = api.post(f"/api/v1/zabbix/servers/{server.pk}/sync")
    assert answer.status_code == 502 and "refused the API token" in answer.json()["detail"]
