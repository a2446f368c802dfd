"""Default periodic tasks, stored in django-celery-beat's tables so operators can edit them in the admin."""
from django.conf import settings

# (name shown in the admin, task, every N seconds)
DEFAULT_SCHEDULES = (
    ("ICMP: dispatch due devices", "icmp.dispatch", lambda: settings.ICMP_DISPATCH_SECONDS),
    ("SNMP: dispatch due devices", "snmp.dispatch", lambda: settings.SNMP_DISPATCH_SECONDS),
    ("Templates: discover table rows and interfaces again", "templates.reapply",
     lambda: settings.SNMP_INTERFACE_REFRESH_SECONDS),
    ("VictoriaMetrics: replay spooled writes", "wardsite.replay_spool", lambda: 30),
    ("Alerts: evaluate rules", "alerts.evaluate", lambda: settings.ALERT_EVALUATION_SECONDS),
    ("Audit log: delete entries past AUDIT_RETENTION_DAYS", "wardsite.expire_audit_entries", lambda: 86400),
)


def ensure_default_schedules(**kwargs) -> None:
    """Create missing default schedules; never overwrite what an operator changed."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    for name, task, seconds in DEFAULT_SCHEDULES:
        if PeriodicTask.objects.filter(task=task).exists():
            continue
        every, _ = IntervalSchedule.objects.get_or_create(every=seconds(), period=IntervalSchedule.SECONDS)
        PeriodicTask.objects.create(name=name, task=task, interval=every)
