"""Thin Celery wrapper over templates_app.applier."""
from celery import shared_task

from templates_app import applier


@shared_task(name="templates.reapply")
def reapply() -> int:
    """Apply every template assignment again: new table rows and interfaces get items, vanished ones lose them."""
    return applier.reapply_all()
