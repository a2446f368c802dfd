"""wardsite.dispatch: what the collectors' dispatchers share (claiming is tested through icmp and snmp)."""
from __future__ import annotations

from wardsite import dispatch


class RecordingTask:
    """Stands in for a Celery task: keeps what would have been queued."""

    def __init__(self) -> None:
        self.sent: list[tuple[tuple, dict]] = []

    def apply_async(self, args: tuple, **options) -> None:
        self.sent.append((args, options))


def test_it_queues_one_task_per_batch_on_the_batchs_queue():
    task = RecordingTask()
    assert dispatch.fan_out([("", [1, 2]), ("site-b", [3])], task, expires=10) == 3
    assert task.sent == [(([1, 2],), {"queue": None, "expires": 10}), (([3],), {"queue": "site-b", "expires": 10})]


def test_it_queues_nothing_when_nothing_is_due():
    task = RecordingTask()
    assert dispatch.fan_out([], task, expires=10) == 0
    assert task.sent == []
