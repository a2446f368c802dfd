"""Thin Celery wrapper over alerts.engine."""
from celery import shared_task

from alerts import engine


@shared_task(name="alerts.evaluate", ignore_result=True)
def evaluate() -> int:
    """Evaluate every enabled rule once; returns how many alerts fired or resolved."""
    return sum(len(result.events) for result in engine.evaluate_all())
