"""Thin Celery wrappers over discovery.scanner."""
from celery import shared_task

from discovery import scanner
from discovery.models import DiscoveryRule


@shared_task(name="discovery.run", ignore_result=True, acks_late=False)  # a scan is not redone behind your back
def run(run_id: int) -> None:
    """Execute a queued run (from the API, the admin or a schedule)."""
    scanner.execute(run_id)


@shared_task(name="discovery.run_rule", ignore_result=True, acks_late=False)
def run_rule(rule_id: int) -> None:
    """A rule's scheduled scan; a disabled or deleted rule does nothing."""
    rule = DiscoveryRule.objects.filter(pk=rule_id, enabled=True).first()
    if rule is not None:
        scanner.execute(scanner.start(rule).pk)
