"""wardsite.dispatch: what the collectors' dispatchers share (claiming is tested through icmp and snmp)."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

from wardsite import dispatch


class RecordingTask:
    """Stands in for a Celery task: keeps what would have been queued."""

    def __init__(self) -> None:
        self.sent: list[tuple[tuple, dict | None, dict]] = []

    def apply_async(self, args: tuple, kwargs: dict | None = None, **options) -> None:
        self.sent.append((args, kwargs, options))


def test_it_queues_one_task_per_batch_on_the_batchs_queue():
    task = RecordingTask()
    assert dispatch.fan_out([("", [1, 2]), ("site-b", [3])], task, expires=10, kwargs={"claimed_at": 1.5}) == 3
    assert task.sent == [(([1, 2],), {"claimed_at": 1.5}, {"queue": None, "expires": 10}),
                         (([3],), {"claimed_at": 1.5}, {"queue": "site-b", "expires": 10})]


def test_it_queues_nothing_when_nothing_is_due():
    task = RecordingTask()
    assert dispatch.fan_out([], task, expires=10) == 0
    assert task.sent == []


NOW = datetime(2026, 12, 6, 17, 0, 0, 123000, tzinfo=timezone.utc)


def test_a_fleet_due_at_once_is_spread_over_the_interval_from_its_next_cycle_on():
    interval = timedelta(seconds=30)
    due = [dispatch.next_due(interval, NOW, pk) for pk in range(1, 10_001)]
    assert all(NOW + interval / 2 <= at < NOW + interval * 1.5 for at in due)
    per_second = Counter(int(at.timestamp()) % 30 for at in due)  # 333 a second if perfectly even
    assert len(per_second) == 30 and 250 <= min(per_second.values()) <= max(per_second.values()) <= 420


def test_a_run_that_starts_late_keeps_its_slot_and_one_late_by_half_an_interval_skips_one():
    interval = timedelta(seconds=30)
    for pk in (1, 2, 977, 10_000):
        slot = dispatch.next_due(interval, NOW, pk)
        assert dispatch.next_due(interval, slot, pk) == slot + interval
        assert dispatch.next_due(interval, slot + timedelta(seconds=14.9), pk) == slot + interval
        assert dispatch.next_due(interval, slot + timedelta(seconds=15.1), pk) == slot + 2 * interval


def test_a_devices_parts_with_dividing_intervals_come_due_together():
    for pk in (3, 4, 5000):
        minute = dispatch.next_due(timedelta(seconds=60), NOW, pk)
        assert dispatch.next_due(timedelta(seconds=10), minute - timedelta(seconds=5), pk) == minute
        assert dispatch.next_due(timedelta(seconds=30), minute - timedelta(seconds=15), pk) == minute
