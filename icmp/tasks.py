"""Thin Celery wrappers over icmp.services: one dispatcher, one task per batch of devices."""
from celery import shared_task
from django.conf import settings

from icmp import services


@shared_task(name="icmp.dispatch")
def dispatch() -> int:
    """Fan the due devices out in batches; returns how many devices were dispatched."""
    batches = services.due_batches()
    for queue, device_ids in batches:
        # a batch still queued after two intervals is stale: the next cycle supersedes it
        ping_batch.apply_async((device_ids,), queue=queue or None, expires=2 * settings.ICMP_INTERVAL_SECONDS)
    return sum(len(ids) for _, ids in batches)


@shared_task(name="icmp.ping_batch")
def ping_batch(device_ids: list[int]) -> int:
    return len(services.run_cycle(device_ids))
