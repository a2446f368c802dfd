"""Thin Celery wrappers over alerts.engine and alerts.services."""
import logging

from celery import shared_task
from django.core.cache import cache
from kombu.exceptions import OperationalError

from alerts import engine, services
from alerts.choices import DeliveryStatus
from alerts.notifications.claims import ClaimBusy
from wardsite import heartbeats

logger = logging.getLogger(__name__)
RETRY_SECONDS = (5, 15, 60, 300)  # waits before the 2nd, 3rd... attempt of a transient failure
# VictoriaMetrics makes a sample searchable about 1 s after it is written: evaluate a little later than that.
STATE_CHANGE_DELAY_SECONDS = 1.5
_BURST_SECONDS = 1  # state changes this close together (a batch) share one evaluation (whole seconds: Redis cache)


@shared_task(name="alerts.evaluate", ignore_result=True)
def evaluate() -> int:
    """Evaluate every enabled rule once and queue the notifications; returns how many alerts fired or resolved."""
    heartbeats.beat("alerts")  # alert evaluation ticks (/healthz, docs/operations.md)
    events = [event for result in engine.evaluate_all() for event in result.events]
    for alert_id, channel_id, kind in services.deliveries_for(events):
        deliver.delay(alert_id, channel_id, kind)
    return len(events)


@shared_task(bind=True, name="alerts.deliver", ignore_result=True, max_retries=len(RETRY_SECONDS))
def deliver(self, alert_id: int, channel_id: int, event: str) -> None:
    """One notification, sent once however often this task is delivered (claimed by its task id); a transient
    failure is retried with growing waits, each attempt recorded."""
    retries = self.request.retries
    try:
        record = services.send_notification(alert_id, channel_id, event, attempt=retries + 1,
                                            last_attempt=retries >= self.max_retries, task_id=self.request.id)
    except ClaimBusy as busy:  # the same attempt again, once the other worker has finished or is taken for dead
        self.signature_from_request(countdown=busy.wait_seconds).apply_async()
        return
    if record is not None and record.status == DeliveryStatus.RETRYING:
        raise self.retry(countdown=RETRY_SECONDS[retries])


def evaluate_soon() -> None:
    """Evaluate the rules shortly after a device changed state instead of at the next tick, so "device down" is
    told within seconds; the changes of one burst (a ping batch) share one evaluation."""
    if not cache.add("alerts:evaluate-soon", True, timeout=_BURST_SECONDS):
        return
    try:
        evaluate.apply_async(countdown=STATE_CHANGE_DELAY_SECONDS, expires=60)
    except OperationalError as exc:  # no broker: the scheduled evaluation will see the change
        logger.warning("could not queue an evaluation after a device state change: %s", exc)
