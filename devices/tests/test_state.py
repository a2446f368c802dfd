from __future__ import annotations

import pytest
from django.conf import settings

from devices import services
from devices.models import Device, DeviceStateChange, MonitoringProfile

pytestmark = pytest.mark.django_db


@pytest.fixture
def device() -> Device:
    return Device.objects.create(name="r1", address="127.0.0.2")


def test_it_records_a_transition_once(device):
    assert services.set_state(device.pk, "down", reason="3 failed ping cycles") is True
    assert services.set_state(device.pk, "down", reason="again") is False
    device.refresh_from_db()
    assert device.state == "down"
    change = DeviceStateChange.objects.get()
    assert (change.previous, change.new, change.reason) == ("unknown", "down", "3 failed ping cycles")
    assert device.state_since == change.at


def test_it_flags_a_device_flapping_after_enough_changes(device):
    for state in ["up", "down"] * (settings.FLAP_THRESHOLD // 2):
        services.set_state(device.pk, state)
    assert Device.objects.with_flap_count().get().flap_count >= settings.FLAP_THRESHOLD


def test_the_flap_count_holds_only_changes_within_the_window_of_each_device(device):
    from datetime import timedelta

    from django.utils import timezone

    other = Device.objects.create(name="r2", address="127.0.0.3")
    now = timezone.now()
    old = now - timedelta(minutes=settings.FLAP_WINDOW_MINUTES + 1)
    DeviceStateChange.objects.bulk_create(
        [DeviceStateChange(device=device, previous="up", new="down", at=now) for _ in range(2)]
        + [DeviceStateChange(device=device, previous="down", new="up", at=old) for _ in range(3)]
        + [DeviceStateChange(device=other, previous="up", new="down", at=now)])
    counts = dict(Device.objects.with_flap_count().values_list("name", "flap_count"))
    assert counts == {"r1": 2, "r2": 1}
    assert Device.objects.with_flap_count().filter(flap_count=0).count() == 0


def test_it_defaults_to_standalone_mode():
    assert services.monitoring_mode() == "standalone"
    assert services.standalone_enabled() is True


def test_it_turns_standalone_collection_off_in_zabbix_mode():
    MonitoringProfile.objects.create(name="main", mode="zabbix")
    assert services.standalone_enabled() is False


@pytest.mark.parametrize("current, answered, failures, expected", [
    ("unknown", True, 0, "up"),  # up on the first answer
    ("down", True, 0, "up"),
    ("up", True, 0, None),  # already up: nothing to record
    ("up", False, 2, None),  # not confirmed yet
    ("up", False, 3, "down"),  # the N-th failure in a row
    ("unknown", False, 4, "down"),
    ("down", False, 9, None),
    ("up", None, 9, None),  # a check that says nothing about reachability
])
def test_one_policy_decides_up_and_down_for_every_collector(current, answered, failures, expected):
    assert services.decide_state(current, answered=answered, failures=failures, down_after=3) == expected


def test_it_records_what_the_checks_of_a_batch_decide_and_returns_the_states(device):
    other = Device.objects.create(name="r2", address="127.0.0.3")
    first = services.record_checks([services.Check(device, False, 1, 2, "1 failed"),
                                    services.Check(other, True, 0, 2, "answers")])
    assert first == {device.pk: "unknown", other.pk: "up"}
    device.refresh_from_db()
    assert services.record_checks([services.Check(device, False, 2, 2, "x" * 300)]) == {device.pk: "down"}
    changes = sorted(DeviceStateChange.objects.values_list("device__name", "new", "reason"))
    assert changes == [("r1", "down", "x" * 255), ("r2", "up", "answers")]
