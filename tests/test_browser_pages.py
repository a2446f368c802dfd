"""What a person sees, in a real browser: Debian's chromium driven by Playwright against the live test server, with
real series in VictoriaMetrics. A screenshot of each page goes into docs/img/ from the same run."""
from __future__ import annotations

import time

import pytest

from devices.models import Device
from snmp.models import Interface, MonitoringItem
from tests.browser_pages import IMAGES, logged_in_page
from wardsite.victoria import Sample, get_client

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("victoria_url")]
DAY = 86400


def _history(device: Device) -> None:
    """A week of a router's series: RTT with a daily rhythm, loss now and then, two interfaces, CPU."""
    now, samples = int(time.time()), []
    base = {"device_id": str(device.pk), "device": device.name}
    for ago in range(7 * DAY, -1, -300):
        at, hour = (now - ago) * 1000, (now - ago) // 3600 % 24
        samples += [Sample("ping_rtt_ms", base, 2 + hour / 8, at), Sample("ping_rtt_min_ms", base, 1.5, at),
                    Sample("ping_rtt_max_ms", base, 4 + hour / 4, at), Sample("ping_up", base, 1.0, at),
                    Sample("ping_packet_loss", base, 33.3 if ago % 7200 == 0 else 0.0, at),
                    Sample("cpu_usage", base, 20 + hour, at)]
        for n, name in ((1, "ge-0/0/1"), (2, "ge-0/0/2")):
            labels = {**base, "ifIndex": str(n), "ifName": name}
            samples += [Sample("snmp_if_in_bps", labels, n * 4e6 * (1 + hour / 12), at),
                        Sample("snmp_if_out_bps", labels, n * 1e6 * (1 + hour / 12), at)]
    get_client().write(samples)
    get_client().flush()


def test_the_device_page_draws_its_graphs_and_the_range_picker_changes_the_query(browser, live_server,
                                                                              staff_operator):
    device = Device.objects.create(name="edge-router-1", address="127.0.0.1", snmp_enabled=True)
    MonitoringItem.objects.create(device=device, name="cpu_usage", oid="1.3.6.1.4.1.9.9.109.1.1.1.1.8.1", units="%")
    for n in (1, 2):
        Interface.objects.create(device=device, if_index=n, name=f"ge-0/0/{n}", descr=f"GigabitEthernet0/0/{n}",
                                 alias="uplink" if n == 2 else "")
    _history(device)
    page, errors = logged_in_page(browser, live_server, staff_operator)
    page.goto(f"{live_server.url}/admin/devices/device/{device.pk}/change/")
    page.wait_for_function("window.wardGraphs && window.wardGraphs.loads === 1")
    drawn = page.evaluate("Object.fromEntries(Object.entries(window.wardGraphs.charts).map(([key, chart]) => "
                          "[key, chart.data.slice(1).map((values) => values.filter((v) => v !== null).length)]))")
    assert set(drawn) == {"rtt", "loss", "availability", "traffic", f"item-{device.snmp_items.get().pk}"}, drawn
    assert all(n >= 10 for counts in drawn.values() for n in counts), drawn  # every series drew its points
    assert len(drawn["rtt"]) == 3 and len(drawn["traffic"]) == 4  # min/avg/max; in and out of two interfaces
    assert "range=1h" in page.evaluate("window.wardGraphs.url")

    page.click("#device-graphs button[data-range='7d']")
    page.wait_for_function("window.wardGraphs.loads === 2")
    assert "range=7d" in page.evaluate("window.wardGraphs.url")
    times = page.evaluate("window.wardGraphs.charts.rtt.data[0]")
    assert times[-1] - times[0] > 6 * DAY and len(times) <= 1000

    picker = "#device-graphs select[name=graph-interface]"
    assert page.locator(picker).locator("option").all_inner_texts() == [
        "busiest 5", "ge-0/0/1 (GigabitEthernet0/0/1)", "ge-0/0/2 — uplink (GigabitEthernet0/0/2)"]
    page.select_option(picker, "ge-0/0/2")
    page.wait_for_function("window.wardGraphs.loads === 3")
    assert "range=7d" in page.evaluate("window.wardGraphs.url") and "interface=ge-0%2F0%2F2" in page.evaluate(
        "window.wardGraphs.url")
    traffic = page.evaluate("[window.wardGraphs.charts.traffic.series.slice(1).map((s) => s.label), "
                            "Math.max(...window.wardGraphs.charts.traffic.data[1].filter((v) => v !== null))]")
    assert traffic[0] == ["in ge-0/0/2", "out ge-0/0/2"] and traffic[1] == pytest.approx(2 * 4e6 * (1 + 23 / 12))
    IMAGES.mkdir(exist_ok=True)
    page.locator("#device-graphs").screenshot(path=str(IMAGES / "device-graphs.png"))
    assert errors == []


def test_a_bad_custom_range_is_said_on_the_page(browser, live_server, staff_operator):
    device = Device.objects.create(name="edge-router-2", address="127.0.0.2")
    page, errors = logged_in_page(browser, live_server, staff_operator)
    page.goto(f"{live_server.url}/admin/devices/device/{device.pk}/change/")
    page.wait_for_function("window.wardGraphs && window.wardGraphs.loads === 1")
    page.fill("[name=graph-start]", "2026-11-02T00:00")
    page.fill("[name=graph-end]", "2026-11-01T00:00")
    page.click("#device-graphs button[data-range='custom']")
    page.wait_for_function("document.querySelector('#device-graphs .graph-status').textContent.includes('end')")
    assert "after the start" in page.inner_text("#device-graphs .graph-status")
    assert [e for e in errors if "400" not in e] == []  # the browser logs the refused request itself


def _job_of_30(browser, live_server, user):
    """The device list's *Test SNMP* on 30 devices (a job: more than its 3 run at once), from a real browser; the
    page (on the job's page, nothing run yet), its console errors and the job's id."""
    Device.objects.bulk_create(Device(name=f"plain-{n:02d}", address=f"127.0.3.{n + 1}") for n in range(30))
    page, errors = logged_in_page(browser, live_server, user)
    page.goto(f"{live_server.url}/admin/devices/device/")
    page.check("#action-toggle")
    page.select_option("select[name=action]", "test_snmp")
    page.click("button[name=index]")
    page.wait_for_url("**/admin/jobs/*/")
    assert "0 of 30 done" in page.inner_text("#job-progress")
    return page, errors, page.url.rstrip("/").rsplit("/", 1)[1]


def test_a_bulk_job_page_follows_its_progress_without_reloading(browser, live_server, admin_user):
    """A big selection's action leads to its job page; the box there changes as batches are recorded (driven here,
    batch by batch, as the worker would) and stops refreshing once the job is done."""
    from wardsite import jobs

    page, errors, job_id = _job_of_30(browser, live_server, admin_user)
    page.evaluate("window.notReloaded = true")
    assert jobs.run_batch(job_id, 0) == 20
    page.wait_for_function("document.querySelector('#job-counts').textContent.startsWith('20 of 30 done')")
    assert jobs.run_batch(job_id, 20) is None
    page.wait_for_selector("#job-result:has-text('Finished')")
    assert page.evaluate("window.notReloaded") is True
    assert page.get_attribute("#job-progress", "hx-trigger") is None  # done: no more requests
    assert "no SNMP credential" in page.inner_text("#job-failures")
    assert errors == []


def test_cancelling_a_bulk_job_from_its_page_stops_it_after_the_batch_in_hand(browser, live_server, admin_user):
    """The button in the refreshed box posts with its CSRF token; the job stops and its page says how far it got."""
    from wardsite import jobs

    page, errors, job_id = _job_of_30(browser, live_server, admin_user)
    assert jobs.run_batch(job_id, 0) == 20
    page.wait_for_function("document.querySelector('#job-counts').textContent.startsWith('20 of 30 done')")
    page.click("#job-cancel input[type=submit]")
    page.wait_for_selector("#job-result:has-text('Cancelled')")
    assert "the other 10 not run" in page.inner_text("#job-result")
    assert "no more batches run" in page.inner_text(".messagelist")
    assert jobs.run_batch(job_id, 20) is None and jobs.progress(job_id).done == 20
    assert errors == []
