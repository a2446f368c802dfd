"""The built-in "Collection stopped" rule on real VictoriaMetrics and Redis: a loop's heartbeat stops, beat's
heartbeat task writes wardflux_loop_stopped, the rule fires a minute later and resolves when the loop is back.

Times are replayed half an hour back (`at`), as in test_engine.py, so no other test's samples are in the window.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from alerts import engine
from alerts.models import Alert, AlertRule
from wardsite import heartbeats
from wardsite.victoria import get_client

pytestmark = pytest.mark.usefixtures("victoria_url")
START = timezone.now().replace(microsecond=0) - timedelta(minutes=30)


def at(minute: float) -> float:
    return (START + timedelta(minutes=minute)).timestamp()


def tick(minute: float, *, icmp: bool) -> None:
    """Every loop ticks at `minute` (ICMP's too when `icmp`), then beat's heartbeat task records the loops."""
    for loop in heartbeats.watched():
        if loop.name != "icmp" or icmp:
            heartbeats.beat(loop.name, at=at(minute))
    heartbeats.record_stopped(now=at(minute))


def evaluate(minute: float) -> list[tuple[str, str]]:
    """[(event, subject)] of the built-in rule evaluated at `minute`."""
    get_client().flush()
    rule = AlertRule.objects.get(builtin="collection-stopped")
    result = next(r for r in engine.evaluate_all(START + timedelta(minutes=minute)) if r.rule == rule.name)
    assert not result.error
    return [(event.kind, Alert.objects.get(pk=event.alert_id).subject) for event in result.events]


@pytest.mark.django_db
def test_it_fires_a_minute_after_the_icmp_cycle_stops_and_resolves_when_it_is_back():
    stale = max(settings.HEALTH_STALE_SECONDS, 3 * settings.ICMP_DISPATCH_SECONDS) / 60  # minutes
    for minute in (0, 0.25, 0.5):
        tick(minute, icmp=True)
    assert evaluate(0.5) == []
    silent = [0.5 + stale + 0.25 * n for n in range(1, 9)]  # the ICMP cycle last ran at 0.5
    for minute in silent:
        tick(minute, icmp=False)
    assert evaluate(silent[0]) == [] and Alert.objects.get().status == "pending"
    assert evaluate(silent[-1]) == [("firing", "WARD FLUX icmp")]
    alert = Alert.objects.get()
    assert (alert.device, alert.labels, alert.severity) == (None, {"loop": "icmp"}, "high")
    back = silent[-1] + 0.25
    tick(back, icmp=True)
    assert evaluate(back) == [("resolved", "WARD FLUX icmp")]


@pytest.mark.django_db
def test_a_fresh_install_has_it_enabled_and_its_series_is_known():
    rule = AlertRule.objects.get(builtin="collection-stopped")
    rule.full_clean()  # the expression parses and names a series WARD FLUX writes
    assert rule.enabled
