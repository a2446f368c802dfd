"""Hybrid mode against a real Zabbix 6.0 (tests/zabbix_server.py): its hosts, groups and problems beside our
devices and alerts, one device for a box in both, state through the one state owner, a second sync that changes
nothing, and hosts removed in Zabbix retired."""
from __future__ import annotations

import pytest

from alerts.choices import AlertSource, AlertStatus
from alerts.models import Alert
from devices.choices import DeviceSource, DeviceState, MonitoringMode
from devices.models import Device, DeviceGroup, DeviceStateChange, MonitoringProfile
from zabbix_bridge.models import ZabbixHost, ZabbixServer
from zabbix_bridge.services import sync_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def hybrid(db) -> None:
    MonitoringProfile.objects.create(name="default", mode=MonitoringMode.HYBRID)


@pytest.fixture
def lab(zabbix, zabbix_prefix, hybrid):
    """A Zabbix group with three hosts: one at an address our inventory has, one with inventory and tags, one
    whose icmpping trapper says it is down (a real problem raised by zabbix_server)."""
    group_name = f"{zabbix_prefix}routers"
    gid = zabbix.group(group_name)
    ours = Device.objects.create(name=f"{zabbix_prefix}core-1", address="127.0.0.5")
    both = zabbix.host(f"{zabbix_prefix}core-1-zbx", groupids=(gid,), ip="127.0.0.5")
    edge = zabbix.host(f"{zabbix_prefix}edge", groupids=(gid,), ip="127.0.0.6",
                       tags=[{"tag": "role", "value": "edge"}, {"tag": "pci", "value": ""}], inventory_mode=0,
                       inventory={"vendor": "Cisco", "model": "ISR4431", "serialno_a": "FDO1234", "os": "IOS XE 17.9",
                                  "location": "DC1 rack 12", "location_lat": "52.520008",
                                  "location_lon": "13.404954"})
    edge_name = f"Edge router {zabbix_prefix}"  # visible names are unique in Zabbix too
    zabbix.call("host.update", {"hostid": edge.hostid, "name": edge_name})
    down = zabbix.host(f"{zabbix_prefix}lost", groupids=(gid,), ip="127.0.0.7")
    zabbix.trapper(down, priority=4)
    zabbix.raise_problem(down)
    server = ZabbixServer.objects.create(name=f"{zabbix_prefix}zbx", url=zabbix.url, api_token=zabbix.api_token,
                                         host_groups=[group_name])
    return {"server": server, "ours": ours, "both": both, "edge": edge, "edge_name": edge_name, "down": down,
            "group": group_name}


def test_hybrid_shows_zabbix_hosts_groups_and_problems_beside_ours(lab, api, admin_client):
    summary = sync_server(lab["server"].pk)

    assert (summary.hosts, summary.created, summary.linked, summary.problems) == (3, 2, 1, 1)
    group = DeviceGroup.objects.get(name=lab["group"])
    ours = Device.objects.get(pk=lab["ours"].pk)
    assert ours.source == DeviceSource.BOTH and ours.name == lab["ours"].name  # one device, our name kept
    assert ours.zabbix_host.hostid == lab["both"].hostid
    edge = Device.objects.get(zabbix_host__hostid=lab["edge"].hostid)
    assert (edge.name, edge.address, edge.source, edge.group) == (lab["edge_name"], "127.0.0.6",
                                                                  DeviceSource.ZABBIX, group)
    assert (edge.vendor, edge.model, edge.serial_number, edge.os_version, edge.location) == (
        "Cisco", "ISR4431", "FDO1234", "IOS XE 17.9", "DC1 rack 12")
    assert (str(edge.latitude), str(edge.longitude)) == ("52.520008", "13.404954")
    assert set(edge.tags.values_list("name", flat=True)) == {"role:edge", "pci"}
    assert not edge.icmp_enabled and not edge.snmp_enabled  # Zabbix watches it, not our collectors

    lost = Device.objects.get(zabbix_host__hostid=lab["down"].hostid)
    assert lost.state == DeviceState.DOWN
    assert DeviceStateChange.objects.get(device=lost).reason == "Zabbix icmpping failed"
    alert = Alert.objects.get(device=lost)
    assert (alert.source, alert.status, alert.severity, alert.rule) == (AlertSource.ZABBIX, AlertStatus.FIRING,
                                                                        "high", None)
    assert alert.name == f"{lab['down'].host} is unreachable"
    assert alert.external_url.startswith(lab["server"].frontend_url) and lab["down"].hostid not in alert.name

    devices = api.get("/api/v1/devices/", {"source": "zabbix", "limit": 100}).json()["results"]
    assert {d["name"]: d["source"] for d in devices} == {ours.name: "both", edge.name: "zabbix", lost.name: "zabbix"}
    active = api.get("/api/v1/monitoring/alerts/active/", {"source": "zabbix"}).json()["results"]
    assert [(a["title"], a["source"], a["device"]) for a in active] == [(alert.name, "zabbix", lost.name)]
    page = admin_client.get("/admin/devices/device/", {"q": lab["group"].removesuffix("routers")}).content.decode()
    assert all(name in page for name in (ours.name, edge.name, lost.name)) and "Local and Zabbix" in page
    assert alert.name in admin_client.get("/admin/alerts/alert/", {"source": "zabbix"}).content.decode()
    assert lab["group"] in admin_client.get("/admin/devices/devicegroup/").content.decode()


def test_a_second_sync_changes_nothing(lab):
    sync_server(lab["server"].pk)
    before = _picture()
    again = sync_server(lab["server"].pk)
    assert (again.created, again.linked, again.retired, again.opened, again.resolved, again.state_changes) == (
        0, 0, 0, 0, 0, 0)
    assert _picture() == before


def test_a_host_removed_in_zabbix_is_retired_not_deleted(lab, zabbix):
    sync_server(lab["server"].pk)
    zabbix.call("host.delete", [lab["edge"].hostid, lab["both"].hostid])
    summary = sync_server(lab["server"].pk)

    assert summary.retired == 2
    edge = Device.objects.get(zabbix_host__hostid=lab["edge"].hostid)
    assert edge.zabbix_host.removed_at is not None and edge.state == DeviceState.UNKNOWN
    assert Device.objects.get(pk=lab["ours"].pk).source == DeviceSource.LOCAL


def test_standalone_mode_leaves_the_bridge_idle(lab):
    MonitoringProfile.objects.update(mode=MonitoringMode.STANDALONE)
    assert sync_server(lab["server"].pk) is None
    assert not ZabbixHost.objects.exists()


def _picture() -> list:
    """What a user sees: devices, their state and tags, alerts with acknowledgement."""
    devices = [(d.name, d.address, d.source, d.state, d.group_id, d.vendor, sorted(t.name for t in d.tags.all()))
               for d in Device.objects.prefetch_related("tags").order_by("name")]
    alerts = list(Alert.objects.order_by("pk").values_list("name", "status", "severity", "acknowledged_at"))
    return [devices, alerts, DeviceStateChange.objects.count()]
