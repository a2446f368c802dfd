from celery import shared_task

from wardsite.audit import delete_expired_entries
from wardsite.victoria import get_client


@shared_task(name="wardsite.replay_spool")
def replay_spool() -> int:
    """Replay metric writes spooled while VictoriaMetrics was unreachable."""
    return get_client().replay_spool()


@shared_task(name="wardsite.expire_audit_entries")
def expire_audit_entries() -> int:
    """Delete audit entries older than AUDIT_RETENTION_DAYS (daily, see wardsite/schedules.py)."""
    return delete_expired_entries()
