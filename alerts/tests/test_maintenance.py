"""Maintenance windows: when one is active in a period (its occurrences) and which devices windows cover, answered
in one batch for the alert engine (the windows active now) and the availability report (over a period)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alerts.engine.suppression import Maintenance
from alerts.models import MaintenanceWindow
from devices.models import Device, DeviceGroup, Tag

pytestmark = pytest.mark.django_db


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A time of November 2026 in TIME_ZONE, as cron expressions are read."""
    return timezone.make_aware(datetime(2026, 11, day, hour, minute))


def test_a_recurring_window_occurs_from_its_first_cron_time_to_its_end_cut_to_the_period():
    nightly = MaintenanceWindow(name="nightly", starts_at=local(2, 2), ends_at=local(4, 3), recurrence="0 2 * * *",
                                duration_minutes=90)  # 02:00-03:30, from the 2nd (a cron time itself) to the 4th 03:00
    assert nightly.occurrences(local(1, 0), local(10, 0)) == [
        (local(2, 2), local(2, 3, 30)), (local(3, 2), local(3, 3, 30)), (local(4, 2), local(4, 3))]
    assert nightly.occurrences(local(3, 2, 30), local(3, 3)) == [(local(3, 2, 30), local(3, 3))]
    assert nightly.occurrences(local(3, 3, 30), local(4, 2)) == []
    late = MaintenanceWindow(name="late", starts_at=local(2, 2, 30), recurrence="0 2 * * *", duration_minutes=90)
    assert late.occurrences(local(2, 0), local(3, 0)) == [(local(2, 2, 30), local(2, 3, 30))]  # begun before it
    assert [late.active_at(local(2, hour, minute)) for hour, minute in ((2, 29), (2, 30), (3, 29), (3, 30))] == [
        False, True, True, False]


def test_a_one_off_window_occurs_once_and_one_without_an_end_never_ends():
    once = MaintenanceWindow(name="once", starts_at=local(2, 10), ends_at=local(2, 12))
    assert once.occurrences(local(2, 0), local(3, 0)) == [(local(2, 10), local(2, 12))]
    assert once.occurrences(local(2, 11), local(3, 0)) == [(local(2, 11), local(2, 12))]
    assert once.occurrences(local(2, 12), local(3, 0)) == []
    assert MaintenanceWindow(name="open", starts_at=local(2, 10)).occurrences(local(9, 0), local(9, 1)) == [
        (local(9, 0), local(9, 1))]


@pytest.fixture
def scopes() -> dict[str, Device]:
    core, spare = DeviceGroup.objects.create(name="core"), DeviceGroup.objects.create(name="spare")
    edge = Tag.objects.create(name="edge")
    made = {name: Device.objects.create(name=name, address=f"127.0.4.{n}", group=group)
            for n, (name, group) in enumerate([("a", core), ("b", core), ("c", None), ("d", None)], start=1)}
    for name in ("a", "c"):
        made[name].tags.add(edge)

    def window(name: str, **fields) -> MaintenanceWindow:
        return MaintenanceWindow.objects.create(name=name, **{"starts_at": local(2, 10), "ends_at": local(2, 12),
                                                              **fields})

    window("named").devices.add(made["d"])
    window("core").groups.add(core)
    window("edge").tags.add(edge)
    window("all")
    window("empty group").groups.add(spare)
    mixed = window("mixed")
    mixed.devices.add(made["a"])
    mixed.tags.add(edge)
    window("later", starts_at=local(2, 11, 30))
    return made


def _names(devices: dict[str, Device], ids: frozenset[int] | None) -> set[str] | None:
    return None if ids is None else {name for name, device in devices.items() if device.pk in ids}


def test_windows_cover_the_devices_named_in_their_groups_or_with_their_tags_every_device_without_scope(scopes):
    covers = MaintenanceWindow.objects.covering(local(2, 9), local(2, 11))
    assert {c.window.name: _names(scopes, c.device_ids) for c in covers} == {
        "named": {"d"}, "core": {"a", "b"}, "edge": {"a", "c"}, "all": None, "empty group": set(),
        "mixed": {"a", "c"}}  # "later" begins after the period
    later = next(c for c in MaintenanceWindow.objects.covering(local(2, 11), local(2, 13)) if c.window.name == "later")
    assert later.spans == [(local(2, 11, 30), local(2, 12))] and later.covers(scopes["b"].pk)
    among = MaintenanceWindow.objects.covering(local(2, 9), local(2, 11), devices=[scopes["b"].pk, scopes["c"].pk])
    assert {c.window.name: _names(scopes, c.device_ids) for c in among} == {
        "named": set(), "core": {"b"}, "edge": {"c"}, "all": None, "empty group": set(), "mixed": {"c"}}


def test_the_engine_reads_the_windows_active_now_in_two_queries_however_many(scopes):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            Maintenance.at(local(2, 11))
        return len(captured)

    few = queries()
    for n in range(30):
        made = MaintenanceWindow.objects.create(name=f"more {n}", starts_at=local(2, 10), recurrence="*/10 * * * *",
                                                duration_minutes=5 + n % 2)
        made.devices.add(scopes["abcd"[n % 4]])
        made.groups.add(scopes["a"].group)
    MaintenanceWindow.objects.create(name="quiet", starts_at=local(2, 10), ends_at=local(2, 12),
                                     suppress_evaluation=True).tags.add(*scopes["c"].tags.all())
    active = Maintenance.at(local(2, 11))
    assert len(active.windows) == 6 + 30 + 1 and queries() == few == 2
    assert active.suppression(scopes["d"].pk).reason == "maintenance"
    assert (active.quiet(scopes["c"].pk), active.quiet(scopes["d"].pk)) == (True, False)


def test_the_database_refuses_a_recurring_window_without_a_duration():
    """The form and the API say so (clean()); a row written around them would stop every evaluation of the engine,
    which reads each window's occurrences."""
    with pytest.raises(IntegrityError), transaction.atomic():
        MaintenanceWindow.objects.create(name="nightly", starts_at=timezone.now(), recurrence="0 2 * * *")
    assert MaintenanceWindow.objects.create(name="nightly", starts_at=timezone.now(), recurrence="0 2 * * *",
                                            duration_minutes=30).pk
