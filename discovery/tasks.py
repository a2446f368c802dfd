"""Thin Celery wrappers over discovery.scanner."""
import logging

from celery import shared_task

from discovery import limits, scanner, targets
from discovery.models import DiscoveryRule

logger = logging.getLogger(__name__)


@shared_task(name="discovery.run", ignore_result=True, acks_late=False)  # a scan is not redone behind your back
def run(run_id: int) -> None:
    """Execute a queued run (from the API, the admin or a schedule)."""
    scanner.execute(run_id)


@shared_task(name="discovery.run_rule", ignore_result=True, acks_late=False)
def run_rule(rule_id: int) -> None:
    """A rule's scheduled scan; a disabled or deleted rule does nothing, a refused scan is logged and skipped."""
    rule = DiscoveryRule.objects.filter(pk=rule_id, enabled=True).first()
    if rule is None:
        return
    if limits.scheduled_too_soon(rule.pk):
        logger.warning("discovery rule %s: scheduled run skipped, the last one began less than "
                       "DISCOVERY_MIN_SCHEDULE_MINUTES ago (check its Periodic task)", rule)
        return
    try:
        run_id = scanner.start(rule).pk
    except (targets.TargetError, targets.ScanRefused) as exc:
        logger.warning("discovery rule %s: scheduled run skipped: %s", rule, exc)
        return
    scanner.execute(run_id)
