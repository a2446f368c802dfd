"""Default periodic tasks, stored in django-celery-beat's tables so operators can edit them in the admin."""
from django.conf import settings

from wardsite.heartbeats import BEAT_SECONDS

CRONTAB_EXPIRE_SECONDS = 3600  # a crontab task (a discovery scan) not started within an hour waits for its next time
# (name shown in the admin, task, every N seconds)
DEFAULT_SCHEDULES = (
    ("ICMP: dispatch due devices", "icmp.dispatch", lambda: settings.ICMP_DISPATCH_SECONDS),
    ("SNMP: dispatch due devices", "snmp.dispatch", lambda: settings.SNMP_DISPATCH_SECONDS),
    ("Templates: discover table rows and interfaces again", "templates.reapply",
     lambda: settings.SNMP_INTERFACE_REFRESH_SECONDS),
    ("VictoriaMetrics: replay spooled writes", "wardsite.replay_spool", lambda: 30),
    ("Alerts: evaluate rules", "alerts.evaluate", lambda: settings.ALERT_EVALUATION_SECONDS),
    ("Audit log: delete entries past AUDIT_RETENTION_DAYS", "wardsite.expire_audit_entries", lambda: 86400),
    ("Celery: warn about queues nobody consumes", "wardsite.check_queues", lambda: settings.QUEUE_CHECK_SECONDS),
    ("Health: beat heartbeat", "wardsite.heartbeat", lambda: BEAT_SECONDS),
    ("Retention: delete old deliveries, alerts, discovery runs, state changes", "wardsite.prune_old_rows",
     lambda: 86400),
)


def expire_seconds_for(every_seconds: int) -> int:
    """A scheduled run still queued after its own interval is dropped: the next run replaces it, and a worker
    outage leaves one run per task waiting, not a pile (at least 5 s: a busy worker takes a moment)."""
    return max(every_seconds, 5)


def ensure_default_schedules(**kwargs) -> None:
    """Create missing default schedules; never overwrite what an operator changed, except that a periodic task
    without an expiry gets one (those made before expiries existed, see give_expiries)."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    for name, task, seconds in DEFAULT_SCHEDULES:
        if PeriodicTask.objects.filter(task=task).exists():
            continue
        every, _ = IntervalSchedule.objects.get_or_create(every=seconds(), period=IntervalSchedule.SECONDS)
        PeriodicTask.objects.create(name=name, task=task, interval=every, expire_seconds=expire_seconds_for(seconds()))
    give_expiries()


def give_expiries() -> int:
    """Every periodic task without `expires`/`expire_seconds` gets one: its interval for an interval task, an hour
    for a crontab one (discovery). Returns how many were changed."""
    from django_celery_beat.models import PeriodicTask

    changed = 0
    for task in PeriodicTask.objects.filter(expires__isnull=True, expire_seconds__isnull=True).select_related(
            "interval"):
        every = task.interval.schedule.run_every.total_seconds() if task.interval is not None else None
        task.expire_seconds = expire_seconds_for(int(every)) if every else CRONTAB_EXPIRE_SECONDS
        task.save(update_fields=["expire_seconds"])
        changed += 1
    return changed
