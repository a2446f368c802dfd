"""Availability reports: a device silenced for a known time in a test namespace (real pings, real VictoriaMetrics),
and state histories of known shape through the API (JSON, CSV, by group, maintenance left out, bad input)."""
from __future__ import annotations

import csv
import html
import io
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
import requests
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts import availability
from alerts.models import MaintenanceWindow
from devices.choices import DeviceState
from devices.models import Device, DeviceGroup, DeviceStateChange, Tag
from icmp import services
from icmp.models import PingSettings
from tests.worker import wait_for
from wardsite.victoria import Sample, get_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("victoria_url")]

CYCLE = 1.0  # seconds between the test's ping cycles
SWEEP = 0.3  # a cycle's wait for replies (timeout_ms)


def _cycles_until(device: Device, until: float) -> None:
    """Ping cycles of `device` every CYCLE seconds, as the dispatcher would run them, until `until`."""
    while time.monotonic() < until:
        began = time.monotonic()
        services.run_cycle([device.pk])
        time.sleep(max(0.0, CYCLE - (time.monotonic() - began)))


def test_a_device_silenced_for_a_known_time_reports_that_downtime_and_mttr(netns):
    address = netns.answering[0]
    device = Device.objects.create(name="edge-silenced", address=address)
    PingSettings.objects.create(device=device, interval_seconds=10, packets=1, packet_interval_ms=100,
                                timeout_ms=int(SWEEP * 1000), down_after=3)
    assert services.run_cycle([device.pk])[0].state == "up"
    begin = timezone.now()
    _cycles_until(device, time.monotonic() + 3)
    netns.silence(address)
    silenced = time.time()
    try:
        _cycles_until(device, time.monotonic() + 8)
    finally:
        netns.restore(address)
        restored = time.time()
    _cycles_until(device, time.monotonic() + 3)
    end = timezone.now()
    assert list(device.state_changes.order_by("at").values_list("new", flat=True)) == ["up", "down", "up"]
    get_client().flush()  # the last ping_up samples searchable (VictoriaMetrics shows them a second later)
    wait_for(lambda: get_client().query(f'ping_up{{device_id="{device.pk}"}}', at=end.timestamp()), 10, "ping_up")

    [row] = availability.by_device([device], (begin, end))
    silent, span = restored - silenced, (end - begin).total_seconds()
    confirmed = device.state_changes.get(new="down").at.timestamp()
    assert confirmed - silenced > 2 * CYCLE  # three failed cycles: dating the outage from "down" would be 2 s off
    assert row.incidents == 1
    assert abs(row.downtime_seconds - silent) <= CYCLE + SWEEP
    assert row.mttr_seconds == pytest.approx(row.downtime_seconds)
    assert row.monitored_seconds == pytest.approx(span)
    assert abs(row.availability_percent - 100 * (1 - silent / span)) <= 100 * (CYCLE + SWEEP) / span


T0 = timezone.now().replace(microsecond=0) - timedelta(hours=2)


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _history(device: Device, *changes: tuple[float, str]) -> None:
    """State changes at T0 + minutes (the devices app writes them; here the history is given)."""
    previous = DeviceState.UNKNOWN
    for minutes, new in changes:
        DeviceStateChange.objects.create(device=device, previous=previous, new=new, at=_at(minutes))
        previous = new


@pytest.fixture
def fleet() -> dict[str, Device]:
    core, edge = DeviceGroup.objects.create(name="core"), DeviceGroup.objects.create(name="edge")
    made = {name: Device.objects.create(name=name, address=f"127.0.3.{n}", group=group)
            for n, (name, group) in enumerate([("a", core), ("b", core), ("c", edge), ("d", None)], start=1)}
    _history(made["a"], (-30, "up"), (10, "down"), (40, "up"))  # 30 min down inside the hour
    _history(made["b"], (-30, "up"), (-10, "down"), (5, "up"))  # down since before the hour: 5 min of it
    _history(made["c"], (-30, "up"), (50, "down"))  # still down at the end
    _history(made["d"], (30, "up"))  # unknown (not yet monitored) for the first half hour
    return made


def _report(api, **params) -> dict:
    response = api.get("/api/v1/reports/availability", {"start": _at(0).isoformat(), "end": _at(60).isoformat(),
                                                        **params})
    assert response.status_code == 200, response.content
    return response.json()


def test_the_report_of_known_histories_per_device(api, fleet):
    rows = {row["name"]: row for row in _report(api)["results"]}
    assert rows["a"] == {"name": "a", "devices": 1, "availability_percent": 50.0, "downtime_minutes": 30.0,
                         "incidents": 1, "mttr_minutes": 30.0, "monitored_minutes": 60.0}
    assert (rows["b"]["downtime_minutes"], rows["b"]["incidents"], rows["b"]["mttr_minutes"]) == (5.0, 1, 15.0)
    assert (rows["c"]["downtime_minutes"], rows["c"]["incidents"], rows["c"]["mttr_minutes"]) == (10.0, 1, None)
    assert (rows["d"]["availability_percent"], rows["d"]["monitored_minutes"]) == (100.0, 30.0)


def test_maintenance_is_left_out_when_asked_and_groups_sum_their_devices(api, fleet):
    window = MaintenanceWindow.objects.create(name="core works", starts_at=_at(20), ends_at=_at(30))
    window.groups.add(DeviceGroup.objects.get(name="core"))
    rows = {row["name"]: row for row in _report(api, exclude_maintenance="true")["results"]}
    assert (rows["a"]["downtime_minutes"], rows["a"]["monitored_minutes"], rows["a"]["availability_percent"]) == (
        20.0, 50.0, 60.0)
    assert rows["c"]["monitored_minutes"] == 60.0  # another group: not in the window's scope
    groups = {row["name"]: row for row in _report(api, by="group", exclude_maintenance="true")["results"]}
    assert groups["core"] == {"name": "core", "devices": 2, "availability_percent": 75.0, "downtime_minutes": 25.0,
                              "incidents": 2, "mttr_minutes": 22.5, "monitored_minutes": 100.0}
    assert set(groups) == {"core", "edge", ""}


def test_a_recurring_window_is_left_out_at_each_occurrence_one_begun_before_the_period_included():
    start = timezone.make_aware(datetime(2026, 11, 1, 0, 0))  # TIME_ZONE, as cron expressions are read
    device = Device.objects.create(name="e", address="127.0.3.9")
    DeviceStateChange.objects.create(device=device, previous=DeviceState.UNKNOWN, new=DeviceState.UP,
                                     at=start - timedelta(days=1))
    for name, cron, minutes in [("every 20 min", "*/20 * * * *", 5), ("nightly", "50 23 * * *", 20)]:
        MaintenanceWindow.objects.create(name=name, starts_at=start - timedelta(days=7), recurrence=cron,
                                         duration_minutes=minutes).devices.add(device)
    [row] = availability.by_device([device], (start, start + timedelta(hours=1)), exclude_maintenance=True)
    assert row.monitored_seconds == 40 * 60  # 00:00-00:10 (nightly, from 23:50), :20-:25, :40-:45 left out


def test_the_report_as_csv_for_a_spreadsheet(api, fleet):
    response = api.get("/api/v1/reports/availability", {"start": _at(0).isoformat(), "end": _at(60).isoformat(),
                                                        "group": "core", "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["name"] for row in rows] == ["a", "b"]
    assert rows[0]["downtime_minutes"] == "30.0" and rows[0]["mttr_minutes"] == "30.0"


def test_the_schema_documents_the_reports_device_filters_beside_its_period(admin_client):
    operation = admin_client.get("/api/v1/schema/?format=json").json()["paths"]["/api/v1/reports/availability/"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"period", "start", "end", "by", "group", "tag", "state", "search"} <= names, names


@pytest.mark.parametrize("params, field", [
    ({"start": "2026-11-01T00:00:00Z"}, "end"),
    ({"end": "2026-11-01T00:00:00Z"}, "start"),
    ({"start": "2026-11-02T00:00:00Z", "end": "2026-11-01T00:00:00Z"}, "end"),
    ({"start": "2024-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}, "end"),
    ({"start": "yesterday", "end": "2026-11-01T00:00:00Z"}, "start"),
    ({"period": "year"}, "period"),
    ({"by": "site"}, "by"),
])
def test_a_bad_period_is_refused_naming_the_field(api, params, field):
    response = api.get("/api/v1/reports/availability", params)
    assert response.status_code == 400 and field in response.json(), response.content


def _local(minutes: float) -> str:
    return timezone.localtime(_at(minutes)).strftime("%Y-%m-%d %H:%M:%S")


def test_the_admin_report_shows_the_rows_and_links_them_as_csv(admin_client, fleet):
    core = DeviceGroup.objects.get(name="core")
    response = admin_client.get("/admin/reports/availability/", {"period": "custom", "start": _local(0),
                                                                "end": _local(60), "group": core.pk})
    assert response.status_code == 200
    page = response.content.decode()
    assert re.findall(r"<tr><td>([^<]*)</td>", page) == ["a", "b"] and "<td>50.000</td>" in page
    csv_url = html.unescape(re.search(r'id="report-csv" href="([^"]+)"|href="([^"]+)" id="report-csv"', page)
                            .group(2))
    rows = list(csv.DictReader(io.StringIO(admin_client.get(csv_url).content.decode())))
    assert [(r["name"], r["downtime_minutes"]) for r in rows] == [("a", "30.0"), ("b", "5.0")]
    assert 'href="/admin/reports/availability/"' in admin_client.get("/admin/").content.decode()


def test_the_admin_report_takes_the_device_list_filters_and_links_them_to_the_csv(admin_client, fleet):
    edge = Tag.objects.create(name="edge")
    for name in ("a", "c"):
        fleet[name].tags.add(edge)
    period = {"period": "custom", "start": _local(0), "end": _local(60)}
    response = admin_client.get("/admin/reports/availability/", {**period, "tag": "edge", "search": "a"})
    page = response.content.decode()
    assert re.findall(r"<tr><td>([^<]*)</td>", page) == ["a"]
    csv_url = html.unescape(re.search(r'id="report-csv" href="([^"]+)"|href="([^"]+)" id="report-csv"', page)
                            .group(2))
    assert [row["name"] for row in csv.DictReader(io.StringIO(admin_client.get(csv_url).content.decode()))] == ["a"]
    assert [row["name"] for row in _report(admin_client, tag=edge.pk, search="c")["results"]] == ["c"]


def test_the_admin_report_refuses_a_bad_filter_on_its_form(admin_client, fleet):
    response = admin_client.get("/admin/reports/availability/", {"tag": "nope", "state": "sideways"})
    assert response.status_code == 200 and 'id="report"' not in response.content.decode()
    assert set(response.context["filters"].errors) == {"tag", "state"}
    assert "nope" in response.context["filters"].errors["tag"][0]


def test_the_admin_report_refuses_a_bad_period_on_its_form(admin_client):
    response = admin_client.get("/admin/reports/availability/", {"period": "custom", "start": _local(60),
                                                                "end": _local(0)})
    assert response.status_code == 200 and 'id="report"' not in response.content.decode()
    assert response.context["form"].errors == {"end": ["the end must be after the start"]}


def test_the_admin_report_needs_the_right_to_see_devices(client, django_user_model):
    staff = django_user_model.objects.create_user("nobody", password="x", is_staff=True)
    client.force_login(staff)
    assert client.get("/admin/reports/availability/").status_code == 403
    assert "/admin/reports/availability/" not in client.get("/admin/").content.decode()


def test_a_one_off_window_saved_without_an_end_is_open_ended(fleet):
    window = MaintenanceWindow.objects.create(name="open", starts_at=_at(45))  # validation refuses it; save does not
    window.devices.add(fleet["a"])
    [row] = availability.by_device([fleet["a"]], (_at(0), _at(60)), exclude_maintenance=True)
    assert row.monitored_seconds == 45 * 60


@contextmanager
def _victoria_queries() -> Iterator[list[str]]:
    """The queries sent to VictoriaMetrics meanwhile, as a response hook of the client's HTTP session sees them."""
    asked: list[str] = []

    def seen(response: requests.Response, **kwargs: object) -> None:
        if response.request.path_url == "/api/v1/query":
            asked.append(response.request.body)

    hooks = get_client()._session.hooks["response"]
    hooks.append(seen)
    try:
        yield asked
    finally:
        hooks.remove(seen)


def _ping_up(device: Device, *failed: tuple[float, float]) -> None:
    """`ping_up` of the device every 10 s from T0 - 20 min to T0 + 60 min: 0 in the `failed` (from, to) minutes."""
    client = get_client()
    client.write([Sample("ping_up", {"device_id": str(device.pk), "device": device.name},
                         0.0 if any(start <= k / 6 < end for start, end in failed) else 1.0,
                         int(_at(k / 6).timestamp() * 1000)) for k in range(-120, 361)])
    client.flush()


def test_outages_are_dated_from_their_first_failed_ping_asked_together(fleet, monkeypatch):
    _ping_up(fleet["a"], (9.5, 40))  # 30 s before it was confirmed down at 10
    b = Device.objects.create(name="b2", address="127.0.3.8")
    _history(b, (-30, "up"), (5, "down"), (15, "up"), (30, "down"), (35, "up"))
    _ping_up(b, (4, 15), (29.5, 35))
    _history(fleet["d"], (45, "down"), (50, "up"))  # never pinged: from when it was confirmed down
    devices, span = [fleet["a"], b, fleet["d"]], (_at(0), _at(60))
    with _victoria_queries() as asked:
        rows = availability.by_device(devices, span)
    assert len(asked) == 1  # four outages, one query
    assert [(row.downtime_seconds / 60, row.incidents, row.mttr_minutes) for row in rows] == [
        (30.5, 1, 30.5), (16.5, 2, 8.25), (5.0, 1, 5.0)]
    monkeypatch.setattr(availability, "QUERY_LENGTH", 1)  # a query per outage: the same answers
    with _victoria_queries() as asked:
        assert availability.by_device(devices, span) == rows
    assert len(asked) == 4


def test_a_report_asks_as_many_queries_for_many_devices_and_windows_as_for_few():
    def measured(n: int) -> tuple[int, int]:
        group = DeviceGroup.objects.create(name=f"group {n}")
        for k in range(n):
            device = Device.objects.create(name=f"r{n}-{k}", address=f"127.0.{n}.{k + 1}", group=group)
            _history(device, (-30, "up"), (10 + k, "down"), (20 + k, "up"))
            window = MaintenanceWindow.objects.create(name=f"w{n}-{k}", starts_at=_at(-60), recurrence="*/15 * * * *",
                                                      duration_minutes=2 + k % 3)
            [window.devices.add(device), window.groups.add(group), window.tags.add(Tag.objects.create(name=window.name))][
                k % 3]
        devices = list(Device.objects.select_related("group").order_by("name"))
        with CaptureQueriesContext(connection) as captured, _victoria_queries() as asked:
            availability.report(devices, (_at(0), _at(60)), by="group", exclude_maintenance=True)
        return len(captured), len(asked)

    assert measured(3) == measured(30) == (4, 1)
