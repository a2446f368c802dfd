"""What every collector's dispatcher shares: claim the due status rows, cut the devices into queue batches."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TypeVar

from django.db import models, transaction

Row = TypeVar("Row", bound=models.Model)


def claim_due(rows: models.QuerySet[Row], now: datetime, reschedule: Callable[[Row], None], *,
              fields: Iterable[str] = ("next_due_at",), limit: int = 50_000) -> list[Row]:
    """Lock the rows of `rows` due at `now` (`next_due_at <= now`), let `reschedule` move each on, save `fields`.

    SKIP LOCKED: two dispatchers running at once never hand out the same row; the earliest due go first.
    """
    with transaction.atomic():
        due = list(rows.select_for_update(skip_locked=True, of=("self",))
                   .filter(next_due_at__lte=now).order_by("next_due_at")[:limit])
        for row in due:
            reschedule(row)
        rows.model.objects.bulk_update(due, list(fields))
    return due


def queue_batches(devices: Iterable, size: int) -> list[tuple[str, list[int]]]:
    """(Celery queue, device ids) batches of at most `size` devices.

    Devices of a group pinned to a poller queue go to that queue; the rest to the default queue ("").
    """
    by_queue: dict[str, list[int]] = defaultdict(list)
    for device in devices:
        by_queue[device.group.poller_queue if device.group else ""].append(device.pk)
    return [(queue, ids[i:i + size]) for queue, ids in by_queue.items() for i in range(0, len(ids), size)]


def next_due(due: datetime, interval: timedelta, now: datetime) -> datetime:
    """The next due time after a run that was due at `due`: keeps the phase, unless a whole interval was missed."""
    return max(due + interval, now + interval / 2)
