"""End to end: a device in a namespace goes silent; beat + a real worker ping and poll it, the engine raises one
"device down" alert, told once by webhook and once by email; the device returns and that is told too. Its
interfaces, silent during the outage, alert suppressed and nobody hears of them."""
from __future__ import annotations

import pytest
import redis
from django.conf import settings

from alerts.models import Alert, AlertRule, Delivery, NotificationChannel
from devices.models import Device
from icmp.models import PingSettings
from snmp.models import MonitoringItem, SNMPCredential
from tests.worker import wait_for
from wardsite.victoria import Sample, get_client

pytestmark = [pytest.mark.e2e]


def interface_series(device: Device) -> set[str]:
    get_client().flush()
    rows = get_client().query(f'snmp_if_in_octets_total{{device_id="{device.pk}"}}')
    return {row["metric"].get("ifName", "") for row in rows}


def test_a_silent_device_gives_one_down_alert_told_once_and_its_interfaces_stay_quiet(
        celery_stack, netns, netns_snmpd, http_receiver, smtp_receiver):
    credential = SNMPCredential.objects.create(name="lab", version="v2c", community=netns_snmpd.community,
                                               timeout_ms=500, retries=0)
    switch = Device.objects.create(name="access-sw-1", address=netns_snmpd.host, snmp_enabled=True,
                                   snmp_credential=credential)
    PingSettings.objects.create(device=switch, interval_seconds=2, packets=1, packet_interval_ms=100,
                                timeout_ms=400, down_after=3)
    hook = NotificationChannel.objects.create(name="noc-hook", kind="webhook", settings={"url": http_receiver.url})
    mail = NotificationChannel.objects.create(name="noc-mail", kind="email", settings={
        "to": ["noc@example.test"], "host": smtp_receiver.host, "port": smtp_receiver.port})
    down = AlertRule.objects.get(builtin="device-down")
    down.channels.add(hook, mail)
    silent = AlertRule.objects.create(name="Interface silent", expression="nodata(snmp_if_in_octets_total, 20s)",
                                      severity="high")
    silent.channels.add(hook, mail)

    wait_for(lambda: Device.objects.get(pk=switch.pk).state == "up" and {"lo", "wf0"} <= interface_series(switch),
             90, "the switch to be up and its interfaces polled", seen=lambda: interface_series(switch))

    netns.silence(switch.address)
    try:
        wait_for(lambda: len(http_receiver.requests) >= 1 and len(smtp_receiver.messages) >= 1, 60,
                 "the device-down notifications")
        # the interfaces fall silent too: their alerts fire, suppressed by the outage
        wait_for(lambda: Alert.objects.filter(rule=silent, status="firing").count() >= 2, 90,
                 "the interface alerts to fire", seen=lambda: list(Alert.objects.values_list("rule__name", "status")))
        assert set(Alert.objects.filter(rule=silent).values_list("suppression", "suppression_detail")) == {
            ("device_down", "access-sw-1 is down")}
    finally:
        netns.restore(switch.address)

    alert = wait_for(lambda: Alert.objects.filter(rule=down, status="resolved").first(), 60,
                     "the device-down alert to resolve")
    wait_for(lambda: len(http_receiver.requests) >= 2 and len(smtp_receiver.messages) >= 2, 30,
             "the resolved notifications")
    wait_for(lambda: not Alert.objects.filter(rule=silent, status__in=("pending", "firing")).exists(), 60,
             "the interface alerts to resolve once the switch is polled again",
             seen=lambda: list(Alert.objects.filter(rule=silent).values_list("status", "suppression_detail")))

    assert Alert.objects.filter(rule=down).count() == 1 and alert.device == switch
    bodies = [request.json() for request in http_receiver.requests]
    assert [(b["rule"], b["state"], b["device"]["name"]) for b in bodies] == [
        ("Device down", "firing", "access-sw-1"), ("Device down", "resolved", "access-sw-1")]
    assert [m["Subject"].split()[0] for m in smtp_receiver.messages] == ["[FIRING]", "[RESOLVED]"]
    assert all("access-sw-1" in m["Subject"] for m in smtp_receiver.messages)
    assert not Delivery.objects.filter(alert__rule=silent).exists()  # suppressed: never sent


def idle() -> bool:
    """Nothing queued and nothing running on any worker."""
    from wardsite.celery import app

    if redis.Redis.from_url(settings.REDIS_URL).llen("celery"):
        return False
    inspect = app.control.inspect(timeout=1)
    busy = [inspect.active(), inspect.reserved(), inspect.scheduled()]
    return all(reply is not None and not any(reply.values()) for reply in busy)


def evaluate_at_once(times: int) -> None:
    from alerts.tasks import evaluate

    for _ in range(times):
        evaluate.delay()
    wait_for(lambda: idle() and idle(), 120, "the workers to finish evaluating and delivering")


def test_two_workers_evaluating_at_once_never_duplicate_an_alert_or_a_notification(two_workers, http_receiver,
                                                                                   tmp_path):
    devices = [Device.objects.create(name=f"edge-{i}", address=f"127.0.1.{i}", icmp_enabled=False)
               for i in range(20)]
    MonitoringItem.objects.create(device=devices[0], name="cpu_usage", oid="1.3.6.1.4.1.9.9.109.1.1.1.1.8.1")
    hot = AlertRule.objects.create(name="CPU hot", expression="last(cpu_usage) > 90", severity="high")
    hot.channels.add(NotificationChannel.objects.create(name="hook", kind="webhook", settings={"url": http_receiver.url}))
    client = get_client()

    def cpu(value: float) -> None:
        client.write([Sample("cpu_usage", {"device_id": str(d.pk), "device": d.name}, value) for d in devices])
        client.flush()
        wait_for(lambda: {float(r["value"][1]) for r in client.query("last_over_time(cpu_usage[1m])")} == {value},
                 15, f"cpu_usage {value} to be queryable")

    cpu(97)
    evaluate_at_once(8)  # eight evaluations of every rule, four at a time on two workers
    assert Alert.objects.filter(rule=hot, status="firing").count() == Alert.objects.filter(rule=hot).count() == 20
    cpu(20)
    evaluate_at_once(8)
    assert Alert.objects.filter(rule=hot, status="resolved").count() == 20

    told = sorted((r.json()["alert_id"], r.json()["state"]) for r in http_receiver.requests)
    assert told == sorted((pk, state) for pk in Alert.objects.filter(rule=hot).values_list("pk", flat=True)
                          for state in ("firing", "resolved"))  # each event of each alert exactly once
    assert Delivery.objects.filter(alert__rule=hot, status="sent").count() == 40
    for log in ("one.log", "two.log"):  # both workers took part
        assert "alerts.evaluate" in (tmp_path / log).read_text()
