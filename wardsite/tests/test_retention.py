"""Retention: the daily task deletes deliveries (and their claims), resolved alerts, discovery runs and state changes
past their RETENTION_* days and keeps the newer ones, open alerts, and everything when a period is 0."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert, AlertRule, Delivery, DeliveryClaim, NotificationChannel
from devices.models import Device, DeviceStateChange
from discovery.models import DiscoveryResult, DiscoveryRun
from wardsite.schedules import DEFAULT_SCHEDULES
from wardsite.tasks import prune_old_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(settings):
    """Of each kind one row past its period (days + 1 old) and one within it (days - 1), plus an old firing alert."""
    settings.RETENTION_DELIVERIES_DAYS, settings.RETENTION_RESOLVED_ALERTS_DAYS = 90, 365
    settings.RETENTION_DISCOVERY_DAYS, settings.RETENTION_STATE_CHANGES_DAYS = 30, 365
    now = timezone.now()
    device = Device.objects.create(name="core-1", address="127.0.0.1")
    rule = AlertRule.objects.create(name="Interface down", expression="snmp_if_oper_status == 2")
    channel = NotificationChannel.objects.create(name="hook", kind="webhook", settings={"url": "http://127.0.0.1:9/"})
    made = {}
    for age, days in (("old", 1), ("new", -1)):
        when = {"deliveries": now - timedelta(days=90 + days), "alerts": now - timedelta(days=365 + days),
                "discovery": now - timedelta(days=30 + days), "changes": now - timedelta(days=365 + days)}
        alert = Alert.objects.create(rule=rule, device=device, fingerprint=age, severity="high", status="resolved",
                                     pending_since=when["alerts"], triggered_at=when["alerts"],
                                     last_seen_at=when["alerts"], resolved_at=when["alerts"])
        delivery = Delivery.objects.create(alert=None, channel=channel, event="test", status="sent", duration_ms=1)
        Delivery.objects.filter(pk=delivery.pk).update(created_at=when["deliveries"])
        run = DiscoveryRun.objects.create(targets="10.0.0.0/30", state="finished", finished_at=when["discovery"])
        DiscoveryResult.objects.create(run=run, ip="10.0.0.1", alive=True)
        change = DeviceStateChange.objects.create(device=device, previous="up", new="down", at=when["changes"])
        made[age] = {"alert": alert, "delivery": delivery, "run": run, "change": change}
    long_ago = now - timedelta(days=1000)
    made["firing"] = Alert.objects.create(rule=rule, device=device, fingerprint="firing", severity="high",
                                          status="firing", pending_since=long_ago, triggered_at=long_ago,
                                          last_seen_at=now)
    for age, days in (("old", 1), ("new", -1)):  # notifications of the firing alert (it stays)
        made[age]["claim"] = DeliveryClaim.objects.create(alert=made["firing"], channel=channel, event="repeat",
                                                          task_id=age, state="sent",
                                                          claimed_at=now - timedelta(days=90 + days))
    made["sending"] = DeliveryClaim.objects.create(alert=made["firing"], channel=channel, event="repeat",
                                                   task_id="sending", state="sending", claimed_at=long_ago)
    return made


def test_the_daily_task_prunes_what_is_past_its_period_and_keeps_the_rest(rows):
    deleted = prune_old_rows.apply().get()
    assert deleted == {"device state changes": 1, "discovery runs": 1, "deliveries": 1, "delivery claims": 1,
                       "resolved alerts": 1}
    for kind, model in (("alert", Alert), ("delivery", Delivery), ("claim", DeliveryClaim), ("run", DiscoveryRun),
                        ("change", DeviceStateChange)):
        assert not model.objects.filter(pk=rows["old"][kind].pk).exists(), kind
        assert model.objects.filter(pk=rows["new"][kind].pk).exists(), kind
    assert Alert.objects.filter(pk=rows["firing"].pk).exists()  # an open alert is never pruned, however old
    assert DeliveryClaim.objects.filter(pk=rows["sending"].pk).exists()  # still being sent: kept
    assert DiscoveryResult.objects.filter(run=rows["new"]["run"]).count() == 1
    assert not DiscoveryResult.objects.filter(run_id=rows["old"]["run"].pk).exists()  # went with its run
    assert set(prune_old_rows.apply().get().values()) == {0}  # nothing left to prune


def test_zero_keeps_everything_forever(rows, settings):
    settings.RETENTION_DELIVERIES_DAYS = settings.RETENTION_RESOLVED_ALERTS_DAYS = 0
    settings.RETENTION_DISCOVERY_DAYS = settings.RETENTION_STATE_CHANGES_DAYS = 0
    assert set(prune_old_rows.apply().get().values()) == {0}
    assert Alert.objects.count() == 3 and Delivery.objects.count() == 2 and DiscoveryRun.objects.count() == 2


def test_a_run_that_never_finished_is_pruned_by_when_it_was_made(rows):
    stuck = DiscoveryRun.objects.create(targets="10.0.0.0/30", state="running")
    DiscoveryRun.objects.filter(pk=stuck.pk).update(created=timezone.now() - timedelta(days=31))
    prune_old_rows.apply()
    assert not DiscoveryRun.objects.filter(pk=stuck.pk).exists()


def test_it_is_a_daily_default_schedule():
    assert ("wardsite.prune_old_rows", 86400) in [(task, every()) for _, task, every in DEFAULT_SCHEDULES]


@pytest.mark.parametrize("value", ["-1", "ninety"])
def test_a_bad_period_stops_start_up(value):
    env = {**os.environ, "RETENTION_DELIVERIES_DAYS": value, "DEBUG": "1"}
    result = subprocess.run([sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode != 0 and "RETENTION_DELIVERIES_DAYS" in result.stderr
