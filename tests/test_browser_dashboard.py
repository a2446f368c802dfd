"""The dashboard as an operator sees it, in a real browser (Debian's chromium driven by Playwright) against the live
test server: counts equal to the database, panels refreshed in place (by the timer and on demand) without
reloading the page, no console error. The screenshot in docs/img/dashboard.png comes from this run."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from alerts.models import Alert, AlertRule
from devices.choices import DeviceState
from devices.models import Device, DeviceGroup, DeviceStateChange
from icmp import dashboard as icmp_dashboard
from snmp import busiest
from snmp.models import Interface
from tests.browser_pages import IMAGES, logged_in_page
from wardsite import heartbeats
from wardsite.victoria import Sample, get_client

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("victoria_url", "snmp_counter_state")]
DOWN_TOTAL = "#panel-devices tfoot td[data-state=down]"


def _network() -> None:
    """Two sites, a few devices down, alerts firing, recent changes, series of loss, RTT and traffic."""
    now, samples, rule = timezone.now(), [], AlertRule.objects.get(builtin="device-down")
    at = int(time.time() - 2) * 1000  # an instant query shows a sample only ~1 s after its time (measured)
    for site, count in (("dc1", 6), ("branch-7", 4)):
        group = DeviceGroup.objects.create(name=site)
        for n in range(count):
            state = DeviceState.DOWN if n == 0 else DeviceState.UP
            device = Device.objects.create(name=f"{site}-sw{n}", address=f"127.0.{40 + count}.{n + 1}",
                                           group=group, state=state)
            labels = {"device_id": str(device.pk), "device": device.name}
            samples += [Sample("ping_rtt_ms", labels, 1.0 + n * 3.7, at), Sample("ping_packet_loss", labels,
                        100.0 if state == DeviceState.DOWN else n * 2.5, at)]
            Interface.objects.create(device=device, if_index=1, name="uplink", speed_bps=10**9)
            iface = {**labels, "ifIndex": "1", "ifName": "uplink"}
            samples += [Sample("snmp_if_in_bps", iface, n * 41e6, at), Sample("snmp_if_out_bps", iface, n * 13e6, at)]
            if state == DeviceState.DOWN:
                DeviceStateChange.objects.create(device=device, previous="up", new="down", reason="3 failed cycles")
                Alert.objects.create(rule=rule, device=device, fingerprint=device.name, severity="critical",
                                     status="firing", pending_since=now, triggered_at=now, last_seen_at=now,
                                     labels=labels)
    get_client().write(samples)
    get_client().flush()
    cache.delete(icmp_dashboard.CACHE_KEY)  # no ranking cached by an earlier test
    busiest.record(samples, time.time())  # as the polls rank them
    for loop in ("beat", "icmp", "snmp", "alerts"):
        heartbeats.beat(loop, time.time() - 4)


def test_the_dashboard_shows_the_databases_counts_and_refreshes_them_in_place(browser, live_server, staff_operator,
                                                                              settings):
    settings.DASHBOARD_REFRESH_SECONDS = 5  # the least allowed: the timer's refresh is seen within the test
    _network()
    page, errors = logged_in_page(browser, live_server, staff_operator)
    page.goto(f"{live_server.url}/admin/")
    page.wait_for_function("window.htmx !== undefined")
    page.wait_for_selector("#panel-worst-devices table")  # the panels that read VictoriaMetrics load after the page
    page.wait_for_selector("#panel-busiest-interfaces table")
    assert int(page.inner_text(DOWN_TOTAL)) == Device.objects.filter(state=DeviceState.DOWN).count() == 2
    assert int(page.inner_text("#panel-devices tfoot td[data-state=up]")) == 8
    assert int(page.inner_text("#panel-alerts tr[data-severity=critical] td[data-count=firing]")) == 2
    assert page.locator("#panel-worst-devices .worst-loss tbody tr").count() == 8  # the down ones are not here
    assert page.locator("#panel-busiest-interfaces tbody tr").count() == 8  # those with traffic
    IMAGES.mkdir(exist_ok=True)
    page.locator("#dashboard").screenshot(path=str(IMAGES / "dashboard.png"))

    page.evaluate("window.notReloaded = true")
    Device.objects.filter(name="dc1-sw3").update(state=DeviceState.DOWN)  # the timer brings it in
    page.wait_for_function(f"document.querySelector('{DOWN_TOTAL}').innerText.trim() === '3'", timeout=30_000)
    Device.objects.filter(name="dc1-sw4").update(state=DeviceState.DOWN)  # asked for at once
    page.evaluate("document.querySelector('#panel-devices').dispatchEvent(new Event('refresh'))")
    page.wait_for_function(f"document.querySelector('{DOWN_TOTAL}').innerText.trim() === '4'", timeout=10_000)
    assert page.evaluate("window.notReloaded") is True  # swapped in place, not a new page

    page.click(f"{DOWN_TOTAL} a")  # the count is a link to exactly those devices
    page.wait_for_url("**/admin/devices/device/?*state__exact=down*")
    assert page.locator("#result_list tbody tr").count() == 4
    assert errors == []
