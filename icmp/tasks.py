"""Thin Celery wrappers over icmp.services: one dispatcher, one task per batch of devices."""
from datetime import datetime
from datetime import timezone as dt_timezone

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from icmp import services
from wardsite import heartbeats
from wardsite.dispatch import fan_out


@shared_task(name="icmp.dispatch")
def dispatch() -> int:
    """Fan the due devices out in batches; returns how many devices were dispatched."""
    heartbeats.beat("icmp")  # the ICMP cycle ticks (/healthz, docs/operations.md)
    now = timezone.now()
    # a batch still queued after two intervals is stale: the next cycle supersedes it
    return fan_out(services.due_batches(now), ping_batch, expires=2 * settings.ICMP_INTERVAL_SECONDS,
                   kwargs={"claimed_at": now.timestamp()})


@shared_task(name="icmp.ping_batch")
def ping_batch(device_ids: list[int], claimed_at: float | None = None) -> int:
    """Ping a batch of devices once (claimed by the dispatcher at `claimed_at`, a Unix time); returns how many were
    pinged."""
    claimed = datetime.fromtimestamp(claimed_at, tz=dt_timezone.utc) if claimed_at is not None else None
    return len(services.run_cycle(device_ids, claimed_at=claimed))
