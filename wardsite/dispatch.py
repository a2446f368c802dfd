"""What every collector's dispatcher shares: give monitored devices a status row, claim the due ones, cut their
devices into queue batches and queue a task per batch.

A collector (icmp, snmp) keeps one status row per device, a model with a `device` one-to-one field, a
`next_due_at` and a `consecutive_failures`; its dispatcher task is `fan_out(claim_batches(...), batch_task,
expires=...)`.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

from celery import Task
from django.db import models, transaction
from django.db.models import Value
from django.db.models.functions import Coalesce

from wardsite.bulk import update_values

Claim = dict[str, Any]  # a claimed status row, as claim_due reads it
_GOLDEN = 2654435761  # Knuth's multiplicative hash: consecutive ids get phases far apart
_PHASE_SPAN = 86_400.0  # phases are spread over a day: modulo any shorter interval, over that interval
Batches = list[tuple[str, list[int]]]  # (Celery queue, device ids)


def ensure_status_rows(status_model: type[models.Model], monitored: models.QuerySet, now: datetime) -> None:
    """Give each of the `monitored` devices that has no `status_model` row one, due at `now`."""
    has_row = status_model._meta.get_field("device").related_query_name()
    missing = monitored.filter(**{f"{has_row}__isnull": True}).values_list("pk", flat=True)
    status_model.objects.bulk_create([status_model(device_id=pk, next_due_at=now) for pk in missing],
                                     ignore_conflicts=True)


def claim_batches(rows: models.QuerySet, monitored: models.QuerySet, reschedule: Callable[[Claim], None], *,
                  now: datetime, size: int, fields: Iterable[str] = ("next_due_at",)) -> Batches:
    """A collector's dispatch: status rows for the `monitored` devices, then the due rows of `rows` claimed
    (see `claim_due`) and their devices cut into batches of at most `size` (see `queue_batches`).

    Devices whose last check failed get batches of their own: a batch ends when its slowest device has timed out,
    and a worker process or thread is held that long, so answering devices never wait on failing ones (Zabbix
    keeps unreachable hosts apart for the same reason).
    """
    ensure_status_rows(rows.model, monitored, now)
    claimed = [(row["pk"], row["queue"], row["consecutive_failures"]) for row in
               claim_due(rows, now, reschedule, fields=fields)]
    return (queue_batches([(pk, queue) for pk, queue, failures in claimed if not failures], size)
            + queue_batches([(pk, queue) for pk, queue, failures in claimed if failures], size))


def fan_out(batches: Batches, task: Task, *, expires: float, kwargs: dict | None = None) -> int:
    """Queue `task(device_ids, **kwargs)` per batch on its queue; a batch still queued after `expires` seconds is
    dropped (a later dispatch hands its devices out again). Returns how many devices were dispatched."""
    for queue, device_ids in batches:
        task.apply_async((device_ids,), kwargs, queue=queue or None, expires=expires)
    return sum(len(device_ids) for _, device_ids in batches)


def claim_due(rows: models.QuerySet, now: datetime, reschedule: Callable[[Claim], None], *,
              fields: Iterable[str] = ("next_due_at",), limit: int = 50_000) -> list[Claim]:
    """Lock the rows of `rows` due at `now` (`next_due_at <= now`), let `reschedule` move each on, save `fields`.

    Each row is read as a `Claim`, not a model instance (a dispatcher claims hundreds a second): its pk (the
    device's id), `consecutive_failures`, `queue` (its group's poller queue, "" for the central workers), `fields`
    and whatever `rows` annotates. SKIP LOCKED: two dispatchers running at once never hand out the same row; the
    earliest due go first.
    """
    fields = list(fields)
    with transaction.atomic():
        due = list(rows.select_for_update(skip_locked=True, of=("self",)).filter(next_due_at__lte=now)
                   .order_by("next_due_at")
                   .values("pk", "consecutive_failures", *fields, *rows.query.annotations,
                           queue=Coalesce("device__group__poller_queue", Value("")))[:limit])
        for row in due:
            reschedule(row)
        update_values(rows.model, due, fields)
    return due


def queue_batches(devices: Iterable[tuple[int, str]], size: int) -> Batches:
    """(Celery queue, device ids) batches of at most `size` devices, from (device id, poller queue) pairs.

    Devices of a group pinned to a poller queue go to that queue; the rest to the default queue ("").
    """
    by_queue: dict[str, list[int]] = defaultdict(list)
    for pk, queue in devices:
        by_queue[queue or ""].append(pk)
    return [(queue, ids[i:i + size]) for queue, ids in by_queue.items() for i in range(0, len(ids), size)]


def next_due(interval: timedelta, now: datetime, key: int) -> datetime:
    """When work done every `interval` for the device `key` is next due: its first slot at least half an interval
    after `now`.

    A device's slots are `phase + k * interval` (seconds since the epoch), its phase drawn from its id: a fleet added
    at once (every row due now) is spread over the interval from its second cycle on, and stays spread after an
    outage; a run that starts a little late keeps the slot; a device's parts with intervals that divide each other
    (an SNMP item every 60 s, the interface counters every 60 s, an item every 10 s) come due together.
    """
    seconds, offset = interval.total_seconds(), phase(key)
    earliest = now.timestamp() + seconds / 2
    return datetime.fromtimestamp(offset + math.ceil((earliest - offset) / seconds) * seconds, tz=dt_timezone.utc)


def phase(key: int) -> float:
    """Seconds since the epoch of the device `key`'s first slot: its slots are `phase + k * interval`."""
    return (key * _GOLDEN % 2**32) / 2**32 * _PHASE_SPAN
