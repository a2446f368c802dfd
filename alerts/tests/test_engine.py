"""The engine on real VictoriaMetrics: samples written for past minutes, rules evaluated at chosen instants.

Evaluating at an explicit time (`at`) replays a timeline deterministically, with no sleeping: the state machine
sees exactly what it would have seen at each cycle.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from alerts import engine
from alerts.models import Alert, AlertRule
from devices.models import Device
from snmp.models import MonitoringItem
from wardsite.victoria import Sample, get_client

pytestmark = pytest.mark.usefixtures("victoria_url")

START = timezone.now().replace(microsecond=0) - timedelta(minutes=30)


def minute(n: float) -> datetime:
    return START + timedelta(minutes=n)


def write(device: Device, metric: str, values: dict[float, float], **labels: str) -> None:
    """{minute: value} samples of `metric` for `device`, at START + minute."""
    client = get_client()
    client.write([Sample(metric, {"device_id": str(device.pk), "device": device.name, **labels}, value,
                         int(minute(m).timestamp() * 1000)) for m, value in values.items()])
    client.flush()


def every(first: float, last: float, value: float, step: float = 0.5) -> dict[float, float]:
    return {first + i * step: value for i in range(int((last - first) / step) + 1)}


@pytest.fixture
def device(db) -> Device:
    made = Device.objects.create(name="core-1", address="127.0.0.1")
    MonitoringItem.objects.create(device=made, name="cpu_usage", oid="1.3.6.1.4.1.9.9.109.1.1.1.1.8.1")
    return made


def rule(expression: str, **fields) -> AlertRule:
    made = AlertRule(name=fields.pop("name", expression), expression=expression, **fields)
    made.full_clean()
    made.save()
    return made


def evaluate(made: AlertRule, at: float) -> engine.RuleResult:
    """Evaluate every rule at START + `at` minutes, as the scheduled task does: what became of `made`."""
    return next(result for result in engine.evaluate_all(minute(at)) if result.rule == made.name)


def run(made: AlertRule, at: float) -> list[tuple[str, str]]:
    """Evaluate at START + `at` minutes: [(event kind, alert status after)] of `made`."""
    return [(e.kind, Alert.objects.get(pk=e.alert_id).status) for e in evaluate(made, at).events]


def suppressions(**alerts) -> list[tuple[str, str]]:
    """(suppression, suppression_detail) of the alerts filtered by `alerts`, sorted."""
    return sorted(Alert.objects.filter(**alerts).values_list("suppression", "suppression_detail"))


def test_it_fires_only_after_the_for_duration_and_once(device):
    write(device, "cpu_usage", {**every(0, 4.5, 20), **every(5, 8.5, 97), **every(9, 15, 99)})
    made = rule("last(cpu_usage) > 90 for 3m")
    assert run(made, 4) == [] and not Alert.objects.exists()
    assert run(made, 5) == [] and Alert.objects.get().status == "pending"
    assert run(made, 7) == []  # held 2 of 3 minutes
    assert run(made, 8) == [("firing", "firing")]
    assert run(made, 9) == []  # still firing: no second event
    alert = Alert.objects.get()
    assert (alert.device, alert.triggered_at) == (device, minute(8))
    assert (alert.first_value, alert.value, alert.last_seen_at) == (97.0, 99.0, minute(9))  # kept up every cycle


def test_a_pending_alert_that_stops_holding_leaves_nothing(device):
    write(device, "cpu_usage", {**every(0, 2, 97), **every(2.5, 6, 20)})
    made = rule("last(cpu_usage) > 90", for_seconds=300)
    assert run(made, 1) == [] and Alert.objects.get().status == "pending"
    assert run(made, 3) == [] and not Alert.objects.exists()


def test_it_resolves_when_the_condition_stops_holding(device):
    write(device, "cpu_usage", {**every(0, 3, 97), **every(3.5, 6, 20)})
    made = rule("last(cpu_usage) > 90")
    assert run(made, 1) == [("firing", "firing")]
    assert run(made, 4) == [("resolved", "resolved")]
    assert Alert.objects.get().resolved_at == minute(4)


def test_hysteresis_keeps_it_firing_until_the_recovery_expression_holds(device):
    write(device, "cpu_usage", {**every(0, 3, 97), **every(3.5, 6, 85), **every(6.5, 9, 70)})
    made = rule("last(cpu_usage) > 90", recovery_expression="last(cpu_usage) < 80")
    assert run(made, 1) == [("firing", "firing")]
    assert run(made, 5) == []  # 85: no longer above 90, not yet below 80
    assert Alert.objects.get().status == "firing"
    assert run(made, 8) == [("resolved", "resolved")]


def test_one_alert_per_series_and_only_for_devices_in_scope(device):
    other = Device.objects.create(name="core-2", address="127.0.0.2")
    for name in ("Gi0/1", "Gi0/2"):
        write(device, "snmp_if_oper_status", every(0, 3, 2), ifName=name)
        write(other, "snmp_if_oper_status", every(0, 3, 2), ifName=name)
    made = rule('snmp_if_oper_status{ifName=~"Gi.*"} == 2')
    made.devices.add(device)
    assert run(made, 1) == [("firing", "firing")] * 2
    assert sorted(a.labels["ifName"] for a in Alert.objects.all()) == ["Gi0/1", "Gi0/2"]
    assert {a.device for a in Alert.objects.all()} == {device}
    assert sorted(a.subject for a in Alert.objects.all()) == ["core-1 Gi0/1", "core-1 Gi0/2"]


def test_nodata_fires_for_a_silent_device_and_resolves_when_data_is_back(device):
    write(device, "snmp_uptime_seconds", {**every(0, 5, 1000), **every(12, 14, 2000)})
    made = rule("nodata(snmp_uptime_seconds, 3m)")
    assert run(made, 4) == []
    assert run(made, 9) == [("firing", "firing")]
    assert run(made, 11) == []  # still silent
    assert run(made, 13) == [("resolved", "resolved")]


@pytest.mark.django_db(transaction=True)
def test_two_evaluators_at_once_never_duplicate_an_alert_or_an_event(victoria_url):
    devices = [Device.objects.create(name=f"edge-{i}", address=f"127.0.1.{i}") for i in range(20)]
    MonitoringItem.objects.create(device=devices[0], name="cpu_usage", oid="1.3.6.1.4.1.9.9.109.1.1.1.1.8.1")
    for made in devices:
        write(made, "cpu_usage", every(0, 10, 97))
    made = rule("last(cpu_usage) > 90 for 2m")
    events: list[engine.Event] = []

    def evaluator(at: float) -> None:
        try:
            events.extend(evaluate(made, at).events)
        finally:
            connection.close()

    for at in (1, 2, 3, 4):  # pending, pending, firing, firing: both evaluators each time
        threads = [threading.Thread(target=evaluator, args=(at,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert Alert.objects.filter(status="firing").count() == Alert.objects.count() == 20
    assert sorted(e.alert_id for e in events) == sorted(Alert.objects.values_list("pk", flat=True))


def test_the_scheduled_task_evaluates_every_rule_and_a_broken_one_does_not_stop_the_others(device):
    from django_celery_beat.models import PeriodicTask

    from alerts.tasks import evaluate

    schedule = PeriodicTask.objects.get(task="alerts.evaluate")  # created at migrate, editable in the admin
    assert schedule.enabled and schedule.interval.every == 10
    write(device, "cpu_usage", every(20, 30, 97))
    rule("last(cpu_usage) > 90")
    AlertRule.objects.create(name="Broken", expression="last(cpu_usage) >")  # saved around validation
    assert evaluate() == 1  # the default templates' rules are evaluated too: no device has their templates
    results = {result.rule: result.error for result in engine.evaluate_all()}
    assert results["Broken"].startswith("line 1") and results["last(cpu_usage) > 90"] == ""


def test_an_unacknowledged_alert_is_repeated_and_escalated_once(device):
    from alerts.models import NotificationChannel
    from alerts.services import acknowledge, deliveries_for

    write(device, "cpu_usage", every(0, 20, 97))
    made = rule("last(cpu_usage) > 90", repeat_minutes=5, escalate_after_minutes=8)
    noc = NotificationChannel.objects.create(name="noc", kind="slack", settings={"url": "http://127.0.0.1:9/"})
    boss = NotificationChannel.objects.create(name="boss", kind="sms", settings={
        "url": "http://127.0.0.1:9/", "account": "AC1", "from": "+4915100000000", "to": ["+4915112345678"]})
    made.channels.add(noc)
    made.escalation_channels.add(boss)
    timeline = {at: evaluate(made, at).events for at in (1, 3, 6, 8, 9, 11, 12)}
    kinds = {at: [e.kind for e in events] for at, events in timeline.items()}
    assert kinds == {1: ["firing"], 3: [], 6: ["repeat"], 8: [], 9: ["escalation"], 11: ["repeat"], 12: []}
    assert [(c, k) for _, c, k in deliveries_for(timeline[9] + timeline[11])] == [(boss.pk, "escalation"),
                                                                                  (noc.pk, "repeat")]
    acknowledge(Alert.objects.all(), None, "on it")
    assert evaluate(made, 17).events == []  # acknowledged: no more repeats


def test_a_down_device_and_devices_behind_it_fire_suppressed_and_are_told_only_if_it_outlasts_the_cause(device):
    edge = Device.objects.create(name="edge-1", address="127.0.0.9", parent=device)
    Device.objects.filter(pk=device.pk).update(state="down")
    write(device, "snmp_if_oper_status", {**every(0, 3, 2), **every(3.5, 6, 1)}, ifName="Gi0/1")  # comes back
    write(edge, "snmp_if_oper_status", every(0, 6, 2), ifName="Gi0/1")  # stays down after core-1 is back
    write(device, "device_up", every(0, 6, 0))
    write(edge, "device_up", every(0, 6, 0))
    write(device, "ping_packet_loss", every(0, 6, 100))
    interfaces, down = rule("snmp_if_oper_status == 2"), AlertRule.objects.get(builtin="device-down")
    loss = rule("ping_packet_loss > 20")

    events = {result.rule: result.events for result in engine.evaluate_all(minute(1))}
    assert events[interfaces.name] == [] and events[loss.name] == []  # the outage is told once, as "device down"
    assert [(Alert.objects.get(pk=e.alert_id).device, e.kind) for e in events[down.name]
            ] == [(device, "firing")]  # edge-1's own "device down" is suppressed: it is behind core-1
    assert suppressions(rule=down, device=edge) == [("parent_down", "core-1 is down (edge-1 depends on it)")]
    assert suppressions(rule=interfaces) == [("device_down", "core-1 is down"),
                                             ("parent_down", "core-1 is down (edge-1 depends on it)")]
    Device.objects.filter(pk=device.pk).update(state="up")
    events = evaluate(interfaces, 5).events
    assert [(Alert.objects.get(pk=e.alert_id).device, e.kind) for e in events] == [(edge, "firing")]
    assert Alert.objects.get(rule=interfaces, device=device).status == "resolved"  # resolved without a word
    assert suppressions(rule=interfaces, device=edge) == [("", "")]
    assert evaluate(interfaces, 5.5).events == []  # told once


def test_a_device_just_back_up_keeps_its_alerts_quiet_while_the_collectors_catch_up(device, settings):
    from devices.models import DeviceStateChange

    settings.ALERT_RECOVERY_GRACE_SECONDS = 60
    write(device, "snmp_if_in_octets_total", every(0, 2, 1000), ifName="Gi0/1")  # then silent: the outage
    silent, stuck = rule("nodata(snmp_if_in_octets_total, 1m)"), rule("nodata(snmp_if_in_octets_total, 2m)")
    Device.objects.filter(pk=device.pk).update(state="down", state_since=minute(2.5))
    assert run(silent, 3.5) == [] and suppressions(rule=silent) == [("device_down", "core-1 is down")]
    Device.objects.filter(pk=device.pk).update(state="up", state_since=minute(4))
    DeviceStateChange.objects.create(device=device, previous="down", new="up", at=minute(4))
    assert run(stuck, 4.5) == []  # fires now, a moment after core-1 came back: still quiet
    ((reason, detail),) = suppressions(rule=stuck)
    assert reason == "recovering" and detail.startswith("core-1 was down until ")
    write(device, "snmp_if_in_octets_total", {4.6: 1200}, ifName="Gi0/1")  # the poller is back
    assert run(silent, 4.7) == [] and Alert.objects.get(rule=silent).status == "resolved"  # never told, nor now
    assert run(stuck, 4.7) == [] and Alert.objects.get(rule=stuck).status == "resolved"


def test_a_maintenance_window_keeps_alerts_quiet_and_they_are_told_if_they_outlast_it(device):
    from alerts.models import MaintenanceWindow

    write(device, "snmp_if_oper_status", every(0, 10, 2), ifName="Gi0/1")
    window = MaintenanceWindow.objects.create(name="core-1 upgrade", starts_at=minute(0), ends_at=minute(4))
    window.devices.add(device)
    interfaces = rule("snmp_if_oper_status == 2")
    assert run(interfaces, 1) == []
    assert suppressions() == [("maintenance", "maintenance 'core-1 upgrade'")]
    assert run(interfaces, 3) == []
    assert run(interfaces, 5) == [("firing", "firing")]  # still down after the window: now people hear of it


def test_a_window_that_stops_evaluation_opens_no_alert(device):
    from alerts.models import MaintenanceWindow

    write(device, "snmp_if_oper_status", every(0, 10, 2), ifName="Gi0/1")
    MaintenanceWindow.objects.create(name="everything", starts_at=minute(0), ends_at=minute(4),
                                     suppress_evaluation=True)  # no scope: every device
    interfaces = rule("snmp_if_oper_status == 2")
    assert run(interfaces, 1) == [] and not Alert.objects.exists()
    assert run(interfaces, 5) == [("firing", "firing")]


def test_a_recurring_window_is_active_during_each_occurrence(db, settings):
    from datetime import timezone as tz

    from django.core.exceptions import ValidationError

    from alerts.models import MaintenanceWindow

    settings.TIME_ZONE = "UTC"
    window = MaintenanceWindow(name="nightly", starts_at=datetime(2026, 1, 1, tzinfo=tz.utc), recurrence="0 2 * * 6",
                               duration_minutes=90)  # Saturdays 02:00-03:30
    window.full_clean()
    saturday = datetime(2026, 11, 28, tzinfo=tz.utc)
    assert [window.active_at(saturday.replace(hour=h, minute=m)) for h, m in ((1, 59), (2, 0), (3, 29), (3, 30))] == [
        False, True, True, False]
    assert not window.active_at(saturday.replace(day=29, hour=2, minute=30))  # a Sunday
    for bad, field in ((dict(recurrence="0 2 * *"), "recurrence"), (dict(duration_minutes=None), "duration_minutes"),
                       (dict(recurrence="", ends_at=None), "ends_at")):
        broken = MaintenanceWindow(name="bad", starts_at=window.starts_at, recurrence=window.recurrence,
                                   duration_minutes=90)
        for key, value in bad.items():
            setattr(broken, key, value)
        with pytest.raises(ValidationError) as raised:
            broken.full_clean()
        assert field in raised.value.message_dict


def test_a_flapping_series_gives_one_flapping_notice_not_a_stream(device, settings):
    settings.FLAP_WINDOW_MINUTES, settings.FLAP_THRESHOLD = 10, 4
    toggling = {m / 2: 97.0 if int(m / 2) % 2 == 0 else 20.0 for m in range(0, 24)}  # up and down every minute
    write(device, "cpu_usage", {**toggling, **every(12, 20, 97)})  # then it stays above 90
    made = rule("last(cpu_usage) > 90")
    kinds = [[e.kind for e in evaluate(made, m + 0.75).events] for m in range(13)]
    assert kinds == [["firing"], ["resolved"], ["firing"], ["resolved"], ["firing"], ["resolved"], ["flapping"],
                     [], [], [], [], [], []]
    assert suppressions(status="firing") == [("flapping", "flapping: fired 5 times in 10 min")]
    assert evaluate(made, 15).events == []  # still 4 firings within the last 10 minutes
    assert [e.kind for e in evaluate(made, 17).events] == ["firing"]  # stable now: told


def test_a_device_changing_state_queues_one_evaluation_shortly_after(device, django_capture_on_commit_callbacks,
                                                                    settings):
    import json

    import redis
    from django.core.cache import cache

    from devices.services import set_state

    from wardsite.queues import queue_of

    broker, queue = redis.Redis.from_url(settings.CELERY_BROKER_URL), queue_of("alerts.evaluate")
    broker.delete(queue)
    cache.clear()
    with django_capture_on_commit_callbacks(execute=True):
        set_state(device.pk, "down", reason="3 failed ping cycles")
        set_state(device.pk, "up", reason="replies to ping")  # the same burst: one evaluation is enough
    queued = [json.loads(message)["headers"] for message in broker.lrange(queue, 0, -1)]
    assert [(h["task"], h["eta"] is not None) for h in queued] == [("alerts.evaluate", True)]
    broker.delete("celery")
