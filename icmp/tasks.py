"""Thin Celery wrappers over icmp.services: one dispatcher, one task per batch of devices."""
from celery import shared_task
from django.conf import settings

from icmp import services
from wardsite import heartbeats
from wardsite.dispatch import fan_out


@shared_task(name="icmp.dispatch")
def dispatch() -> int:
    """Fan the due devices out in batches; returns how many devices were dispatched."""
    heartbeats.beat("icmp")  # the ICMP cycle ticks (/healthz, docs/operations.md)
    # a batch still queued after two intervals is stale: the next cycle supersedes it
    return fan_out(services.due_batches(), ping_batch, expires=2 * settings.ICMP_INTERVAL_SECONDS)


@shared_task(name="icmp.ping_batch")
def ping_batch(device_ids: list[int]) -> int:
    """Ping a batch of devices once; returns how many were pinged."""
    return len(services.run_cycle(device_ids))
