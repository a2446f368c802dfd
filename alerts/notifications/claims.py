"""A notification is sent once even when its task is delivered twice: claim it (a row per alert, channel, event and
task), send, then mark the claim.

At least once, not exactly once: a worker that dies after sending and before marking leaves a claim "being sent";
after DELIVERY_CLAIM_TIMEOUT_SECONDS another delivery of the task takes it over and sends again. Within that window
(seconds: between the channel's answer and one UPDATE) a notification can be sent twice; it is never lost.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from alerts.choices import ClaimState, DeliveryStatus
from alerts.models import DeliveryClaim

_STATE_OF = {DeliveryStatus.SENT: ClaimState.SENT, DeliveryStatus.RETRYING: ClaimState.RETRYING,
             DeliveryStatus.FAILED: ClaimState.FAILED}


class ClaimBusy(Exception):
    """Another worker is sending this notification (or died doing so less than the claim timeout ago)."""

    def __init__(self, wait_seconds: float) -> None:
        super().__init__(f"being sent by another worker; look again in {wait_seconds:.0f} s")
        self.wait_seconds = wait_seconds


@dataclass(frozen=True)
class Key:
    """What names one notification: the alert, the channel, the event and the Celery task queued for it."""

    alert_id: int
    channel_id: int
    event: str
    task_id: str


def take(key: Key, attempt: int, now: datetime | None = None) -> DeliveryClaim | None:
    """The claim for this attempt, or None when there is nothing to send (sent, failed for good, or this attempt
    already failed and queued the next); ClaimBusy while another worker holds a fresh claim."""
    now = now or timezone.now()
    claim, created = DeliveryClaim.objects.get_or_create(
        alert_id=key.alert_id, channel_id=key.channel_id, event=key.event, task_id=key.task_id,
        defaults={"state": ClaimState.SENDING, "attempt": attempt, "claimed_at": now})
    if created:
        return claim
    stale = now - timedelta(seconds=settings.DELIVERY_CLAIM_TIMEOUT_SECONDS)
    takeable = Q(state=ClaimState.RETRYING, attempt__lt=attempt) | Q(state=ClaimState.SENDING, claimed_at__lt=stale)
    if DeliveryClaim.objects.filter(takeable, pk=claim.pk).update(state=ClaimState.SENDING, attempt=attempt,
                                                                  claimed_at=now):
        claim.refresh_from_db()
        return claim
    claim.refresh_from_db()
    if claim.state == ClaimState.SENDING:
        raise ClaimBusy((claim.claimed_at - stale).total_seconds() + 1)
    return None


def mark(claim: DeliveryClaim, status: str) -> None:
    """Record what came of the claimed attempt (a delivery status)."""
    DeliveryClaim.objects.filter(pk=claim.pk, attempt=claim.attempt).update(state=_STATE_OF[status])


def prune(cutoff: datetime) -> int:
    """Delete the claims of notifications sent or failed for good before `cutoff` (kept with the deliveries:
    RETENTION_DELIVERIES_DAYS); those still being sent or retried stay. Returns how many went."""
    done = DeliveryClaim.objects.filter(state__in=[ClaimState.SENT, ClaimState.FAILED], claimed_at__lt=cutoff)
    return done.delete()[1].get("alerts.DeliveryClaim", 0)
