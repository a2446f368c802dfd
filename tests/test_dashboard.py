"""The dashboard on the admin index (wardsite/dashboard.py and the panels the apps register): what an operator reads
there equals the database and VictoriaMetrics, each count's link lists exactly those rows, each panel refreshes
from its own URL, and a user sees only the panels of what they may view."""
from __future__ import annotations

import html
import re
import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.models import Alert, AlertRule
from devices.choices import DeviceState
from devices.models import Device, DeviceGroup, DeviceStateChange
from icmp import dashboard as icmp_dashboard
from snmp import busiest
from snmp.models import Interface
from tests.fixtures import user_with
from tests.services import free_port
from wardsite import heartbeats, kv
from wardsite.victoria import Sample, get_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_cached_ranking() -> None:
    """The worst devices are cached for everyone a few seconds; each test ranks its own."""
    cache.delete(icmp_dashboard.CACHE_KEY)


def _panel(client, name: str) -> str:
    response = client.get(f"/admin/dashboard/{name}/")
    assert response.status_code == 200, response.status_code
    assert "no-store" in response["Cache-Control"]  # a refresh must never show an old count
    return response.content.decode()


def _counts(page: str) -> dict[str, dict[str, tuple[int, str]]]:
    """{group: {state: (count, link or "")}} of the devices panel."""
    found: dict[str, dict[str, tuple[int, str]]] = {}
    for group, row in re.findall(r'<tr data-group="([^"]*)">(.*?)</tr>', page, re.S):
        for state, cell in re.findall(r'data-state="(\w+)">(.*?)</td>', row):
            link = re.search(r'href="([^"]+)">(\d+)<', cell)
            found.setdefault(html.unescape(group), {})[state] = (
                (int(link.group(2)), html.unescape(link.group(1))) if link else (int(cell), ""))
    return found


def _listed_count(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200
    return response.context["cl"].result_count


def _fleet(groups: int) -> None:
    for n in range(groups):
        group = DeviceGroup.objects.create(name=f"site-{n}")
        for m, state in enumerate([DeviceState.UP, DeviceState.UP, DeviceState.DOWN, DeviceState.UNKNOWN][: n + 2]):
            Device.objects.create(name=f"d-{n}-{m}", address=f"127.0.{n + 10}.{m + 1}", group=group, state=state)
    Device.objects.create(name="loose", address="127.0.9.1", state=DeviceState.DOWN)


def test_devices_per_group_equal_the_database_and_link_to_exactly_those_devices(admin_client):
    _fleet(3)
    counts = _counts(_panel(admin_client, "devices"))
    for group in DeviceGroup.objects.all():
        for state in DeviceState:
            expected = Device.objects.filter(group=group, state=state).count()
            count, link = counts[group.name][state]
            assert count == expected, (group, state)
            if expected:
                assert _listed_count(admin_client, link) == expected
    assert counts["(no group)"][DeviceState.DOWN][0] == 1
    assert _listed_count(admin_client, counts["(no group)"][DeviceState.DOWN][1]) == 1
    total_down, link = counts[""][DeviceState.DOWN]  # the footer: every device
    assert total_down == Device.objects.filter(state=DeviceState.DOWN).count() == 3
    assert _listed_count(admin_client, link) == 3
    page = _panel(admin_client, "devices")
    assert page.index("site-1") < page.index("site-0")  # groups with devices down first (site-0 has none)


def test_the_panels_queries_do_not_grow_with_the_fleet(admin_client, settings):
    settings.VICTORIA_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens: the panels say so, fast
    _fleet(2)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get("/admin/").status_code == 200
    for n in range(6):
        group = DeviceGroup.objects.create(name=f"more-{n}")
        device = Device.objects.create(name=f"m-{n}", address=f"127.0.20.{n + 1}", group=group, state=DeviceState.DOWN)
        DeviceStateChange.objects.create(device=device, previous="up", new="down")
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get("/admin/").status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_alerts_by_severity_count_firing_unacknowledged_and_pending_and_link_to_them(admin_client, admin_user):
    rule, now = AlertRule.objects.get(builtin="device-down"), timezone.now()
    device = Device.objects.create(name="r1", address="127.0.30.1")
    for n, (severity, status, acknowledged) in enumerate([
            ("critical", "firing", False), ("critical", "firing", True), ("high", "pending", False),
            ("low", "firing", False), ("critical", "resolved", False)]):
        Alert.objects.create(rule=rule, device=device, fingerprint=f"d-{n}", severity=severity, status=status,
                             pending_since=now, last_seen_at=now, labels={},
                             acknowledged_at=now if acknowledged else None)
    page = _panel(admin_client, "alerts")
    rows = {severity: {kind: (int(n), html.unescape(url)) for kind, url, n in
                       re.findall(r'data-count="(\w+)">(?:<a href="([^"]+)">)?(\d+)', row)}
            for severity, row in re.findall(r'<tr data-severity="(\w+)">(.*?)</tr>', page, re.S)}
    assert list(rows) == ["critical", "high", "medium", "low", "info"]  # most severe first
    assert rows["critical"]["firing"][0] == 2 and rows["critical"]["unacknowledged"][0] == 1
    assert rows["high"]["pending"][0] == 1 and rows["low"]["firing"][0] == 1 and rows["info"]["firing"] == (0, "")
    assert _listed_count(admin_client, rows["critical"]["firing"][1]) == 2
    assert _listed_count(admin_client, rows["critical"]["unacknowledged"][1]) == 1
    assert _listed_count(admin_client, rows["high"]["pending"][1]) == 1
    assert "/admin/reports/availability/" in page


def test_recent_state_changes_newest_first(admin_client):
    device, now = Device.objects.create(name="flappy", address="127.0.31.1"), timezone.now()
    for minutes in range(12):
        DeviceStateChange.objects.create(device=device, previous="up", new="down", at=now - timedelta(minutes=minutes),
                                         reason=f"change {minutes}")
    page = _panel(admin_client, "state-changes")
    shown = re.findall(r"change (\d+)", page)
    assert shown == [str(n) for n in range(10)]  # the newest ten, newest first


def _write(samples: list[Sample]) -> None:
    get_client().write(samples)
    get_client().flush()


@pytest.mark.usefixtures("victoria_url")
def test_the_worst_devices_by_loss_and_rtt_over_the_last_minutes(admin_client):
    devices = [Device.objects.create(name=f"w{n}", address=f"127.0.32.{n + 1}") for n in range(4)]
    gone = Device.objects.create(name="gone", address="127.0.32.9")
    now, samples = int(time.time()), []
    # loss: w0 none, w1 some, w2 all (down: counted as down, not here), w3 more; rtt rising with n
    for device, loss, rtt in zip([*devices, gone], [0, 10, 100, 40, 90], [1, 2, 3, 4, 50]):
        labels = {"device_id": str(device.pk), "device": device.name}
        samples += [s for ago in range(0, 600, 30) for s in (
            Sample("ping_packet_loss", labels, float(loss), (now - ago) * 1000),
            Sample("ping_rtt_ms", labels, float(rtt), (now - ago) * 1000))]
    _write(samples)
    gone.delete()  # its series stay in VictoriaMetrics for a while; the panel leaves it out
    page = _panel(admin_client, "worst-devices")
    loss_table, rtt_table = page.split('class="worst-rtt"')
    assert re.findall(r">(w\d)</a>", loss_table) == ["w3", "w1"]
    assert re.findall(r">(w\d)</a>", rtt_table) == ["w3", "w2", "w1", "w0"]
    assert "gone" not in page


@pytest.mark.usefixtures("victoria_url")
def test_the_worst_devices_ranking_is_shared_for_a_few_seconds(admin_client, settings):
    """One ranking per CACHE_SECONDS for everyone, whatever the number of open dashboards."""
    device = Device.objects.create(name="lossy", address="127.0.32.20")
    labels = {"device_id": str(device.pk), "device": device.name}
    _write([Sample("ping_packet_loss", labels, 20.0, int(time.time() - 60) * 1000)])
    assert ">lossy</a>" in _panel(admin_client, "worst-devices")
    settings.VICTORIA_URL = f"http://127.0.0.1:{free_port()}"  # VictoriaMetrics gone: the ranking is not asked again
    assert ">lossy</a>" in _panel(admin_client, "worst-devices")
    cache.delete(icmp_dashboard.CACHE_KEY)  # once it has expired, it is
    assert "VictoriaMetrics cannot be read" in _panel(admin_client, "worst-devices")


@pytest.mark.usefixtures("victoria_url", "snmp_counter_state")
def test_the_busiest_interfaces_by_their_busier_direction_with_their_use_of_the_speed(admin_client):
    router = Device.objects.create(name="core", address="127.0.33.1")
    now, samples = time.time(), []
    for index, name, inbound, outbound in ((1, "ge-0/0/1", 200e6, 10e6), (2, "ge-0/0/2", 1e6, 500e6),
                                           (3, "ge-0/0/3", 0.0, 0.0), (4, "ge-0/0/4", 1e3, 0.0)):
        Interface.objects.create(device=router, if_index=index, name=name, speed_bps=1e9 if index < 4 else None)
        labels = {"device_id": str(router.pk), "device": "core", "ifIndex": str(index), "ifName": name}
        at = int(now - 2) * 1000  # an instant query shows a sample only ~1 s after its time (measured)
        samples += [Sample("snmp_if_in_bps", labels, inbound, at), Sample("snmp_if_out_bps", labels, outbound, at)]
    _write(samples)
    busiest.record(samples, now)  # as a poll of the router records them
    rows = re.findall(r"<td>([^<]+)</td>\s*<td class=\"number\">([^<]+)</td><td class=\"number\">([^<]+)</td>"
                      r"<td class=\"number\">([^<]+)</td>", _panel(admin_client, "busiest-interfaces"))
    assert rows == [("ge-0/0/2", "1 Mbit/s", "500 Mbit/s", "50 %"), ("ge-0/0/1", "200 Mbit/s", "10 Mbit/s", "20 %"),
                    ("ge-0/0/4", "1 kbit/s", "0 bit/s", "–")]  # no traffic: not listed; no speed: no share


@pytest.mark.usefixtures("snmp_counter_state")
def test_interfaces_not_polled_for_a_while_leave_the_ranking():
    def rate(device_id: int, value: float) -> Sample:
        return Sample("snmp_if_in_bps", {"device_id": str(device_id), "ifIndex": "1"}, value)

    now = time.time()
    busiest.record([rate(1, 9e9)], now - busiest.STALE_SECONDS - 60)  # the busiest once, then no poll answered
    assert busiest.top(5, now=now) == []  # too old to show, even before it is pruned
    busiest.record([rate(2, 5.0), rate(3, 7.0)], now)
    assert busiest.top(5, now=now) == [(3, 1, 7.0), (2, 1, 5.0)]
    assert kv.connection().zscore(busiest.KEY, "1:1") is None  # pruned as the next batch was recorded


@pytest.mark.usefixtures("snmp_counter_state")
def test_panels_say_when_victoriametrics_cannot_be_read(admin_client, settings):
    settings.VICTORIA_URL = f"http://127.0.0.1:{free_port()}"
    router = Device.objects.create(name="core", address="127.0.33.2")
    busiest.record([Sample("snmp_if_in_bps", {"device_id": str(router.pk), "ifIndex": "1"}, 1e6)], time.time())
    assert "VictoriaMetrics cannot be read" in _panel(admin_client, "worst-devices")
    assert "VictoriaMetrics cannot be read" in _panel(admin_client, "busiest-interfaces")
    assert admin_client.get("/admin/").status_code == 200


def test_the_collectors_last_cycle_and_a_loop_that_never_ran(admin_client):
    heartbeats.beat("icmp", time.time() - 5)
    heartbeats.beat("snmp", time.time() - 3600)
    page = _panel(admin_client, "collectors")
    rows = dict(re.findall(r"<th scope=\"row\">([^<]+)</th><td>([^<]+)</td>", page))
    assert re.fullmatch(r"\d+ seconds ago", rows["ICMP cycle"])  # on time: not stopped
    assert rows["SNMP cycle"] == "60 minutes ago (stopped)"
    assert "No sample waits for VictoriaMetrics" in page


def test_a_user_sees_only_the_panels_of_what_they_may_view(client):
    user = user_with("devices.view_device")
    user.is_staff = True
    user.save()
    client.force_login(user)
    page = client.get("/admin/").content.decode()
    assert 'id="panel-devices"' in page and 'id="panel-collectors"' in page
    assert 'id="panel-alerts"' not in page and 'id="panel-worst-devices"' not in page
    assert client.get("/admin/dashboard/alerts/").status_code == 404
    assert client.get("/admin/dashboard/no-such-panel/").status_code == 404


def test_the_index_refreshes_each_panel_from_its_own_url(admin_client, settings):
    settings.DASHBOARD_REFRESH_SECONDS = 7
    page = admin_client.get("/admin/").content.decode()
    panels = re.findall(r'id="panel-([\w-]+)" hx-get="([^"]+)"\s+hx-trigger="([^"]+)"', page)
    assert [name for name, _, _ in panels] == ["devices", "alerts", "state-changes", "worst-devices",
                                               "busiest-interfaces", "collectors"]
    lazy = {"worst-devices", "busiest-interfaces"}  # they read VictoriaMetrics: loaded after the page
    for name, url, trigger in panels:
        assert (url, trigger) == (f"/admin/dashboard/{name}/", ("load, " if name in lazy else "") + "every 7s, refresh")
    assert page.count("Loading…") == len(lazy)
    assert "wardsite/vendor/htmx/htmx.min.js" in page


def test_anonymous_users_are_sent_to_the_login(client):
    response = client.get("/admin/dashboard/devices/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
