from celery import shared_task

from wardsite import heartbeats, jobs, retention
from wardsite.audit import delete_expired_entries
from wardsite.queues import warn_unconsumed
from wardsite.victoria import get_client


@shared_task(name="wardsite.replay_spool")
def replay_spool() -> int:
    """Replay metric writes spooled while VictoriaMetrics was unreachable."""
    return get_client().replay_spool()


@shared_task(name="wardsite.expire_audit_entries")
def expire_audit_entries() -> int:
    """Delete audit entries older than AUDIT_RETENTION_DAYS (daily, see wardsite/schedules.py)."""
    return delete_expired_entries()


@shared_task(name="wardsite.check_queues")
def check_queues() -> list[str]:
    """Warn about queues with waiting tasks and no worker (every QUEUE_CHECK_SECONDS); returns their names."""
    return warn_unconsumed()


@shared_task(name="wardsite.heartbeat")
def heartbeat() -> None:
    """Beat's own tick (every heartbeats.BEAT_SECONDS): beat and a worker are alive (docs/operations.md); and
    whether each watched loop has stopped, written for the built-in "Collection stopped" rule."""
    heartbeats.beat("beat")
    heartbeats.record_stopped()


@shared_task(name="wardsite.prune_old_rows")
def prune_old_rows() -> dict[str, int]:
    """Delete deliveries, resolved alerts, discovery runs and state changes past their RETENTION_* (daily)."""
    return retention.prune_all()


@shared_task(name="wardsite.run_job")
def run_job(job_id: str, offset: int) -> None:
    """One batch of a bulk job (wardsite/jobs.py), then the next batch as a task of its own."""
    following = jobs.run_batch(job_id, offset)
    if following is not None:
        jobs.send(job_id, following)
