"""Thin Celery wrappers over alerts.engine and alerts.services."""
from celery import shared_task

from alerts import engine, services
from alerts.choices import DeliveryStatus

RETRY_SECONDS = (5, 15, 60, 300)  # waits before the 2nd, 3rd... attempt of a transient failure


@shared_task(name="alerts.evaluate", ignore_result=True)
def evaluate() -> int:
    """Evaluate every enabled rule once and queue the notifications; returns how many alerts fired or resolved."""
    events = [event for result in engine.evaluate_all() for event in result.events]
    for alert_id, channel_id, kind in services.deliveries_for(events):
        deliver.delay(alert_id, channel_id, kind)
    return len(events)


@shared_task(bind=True, name="alerts.deliver", ignore_result=True, max_retries=len(RETRY_SECONDS))
def deliver(self, alert_id: int, channel_id: int, event: str) -> None:
    """One notification; a transient failure is retried with growing waits, each attempt recorded."""
    retries = self.request.retries
    record = services.send_notification(alert_id, channel_id, event, attempt=retries + 1,
                                        last_attempt=retries >= self.max_retries)
    if record.status == DeliveryStatus.RETRYING:
        raise self.retry(countdown=RETRY_SECONDS[retries])
