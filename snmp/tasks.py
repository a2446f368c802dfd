"""Thin Celery wrappers over snmp.services: one dispatcher, one task per batch of devices."""
from celery import shared_task

from snmp import services
from wardsite import heartbeats
from wardsite.dispatch import fan_out


@shared_task(name="snmp.dispatch")
def dispatch() -> int:
    """Fan the due devices out in batches; returns how many devices were dispatched."""
    heartbeats.beat("snmp")  # the SNMP cycle ticks (/healthz, docs/operations.md)
    # a batch still queued after the claim lease is stale: the devices are handed out again by then
    return fan_out(services.due_batches(), poll_batch, expires=services.CLAIM_LEASE.total_seconds())


@shared_task(name="snmp.poll_batch")
def poll_batch(device_ids: list[int]) -> int:
    """Poll a batch of devices; returns how many answered."""
    return sum(1 for result in services.run_batch(device_ids) if not result.error)
