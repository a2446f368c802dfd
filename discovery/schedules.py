"""A discovery rule's schedule: a django-celery-beat crontab task (editable in the admin as Periodic tasks)."""
from __future__ import annotations

from croniter import croniter
from django.conf import settings
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from discovery import limits
from discovery.models import DiscoveryRule
from wardsite.schedules import CRONTAB_EXPIRE_SECONDS
from wardsite.text import quote

PRESETS = {"daily": "0 3 * * *", "weekly": "0 3 * * 0"}  # 03:00 every day / on Sundays


def cron_of(value: str) -> str:
    """'daily', 'weekly' or a 5-field cron expression -> the cron expression; '' -> ''; ValueError otherwise, also
    for one that would scan more often than DISCOVERY_MIN_SCHEDULE_MINUTES allows."""
    value = (value or "").strip()
    cron = PRESETS.get(value.lower(), value)
    if cron and (len(cron.split()) != 5 or not croniter.is_valid(cron)):
        raise ValueError(f"{quote(value)} is not daily, weekly or a cron expression (minute hour day month weekday)")
    if cron and (problem := limits.schedule_problem(cron)):
        raise ValueError(problem)
    return cron


def current_cron(rule: DiscoveryRule) -> str:
    """The rule's schedule as a cron expression; '' when it has none."""
    task = rule.schedule
    if task is None or task.crontab is None:
        return ""
    c = task.crontab
    return f"{c.minute} {c.hour} {c.day_of_month} {c.month_of_year} {c.day_of_week}"


def set_schedule(rule: DiscoveryRule, value: str) -> None:
    """Give the rule this schedule (a preset or cron, in TIME_ZONE), or none for ''; the task follows `enabled`."""
    # a schedule kept as it was is not checked again (saved before the minimum interval was raised, say)
    cron = value if value and value == current_cron(rule) else cron_of(value)
    if not cron:
        if rule.schedule is not None:
            rule.schedule.delete()
            DiscoveryRule.objects.filter(pk=rule.pk).update(schedule=None)
            rule.schedule = None
        return
    minute, hour, day, month, weekday = cron.split()
    crontab, _ = CrontabSchedule.objects.get_or_create(minute=minute, hour=hour, day_of_month=day,
                                                       month_of_year=month, day_of_week=weekday,
                                                       timezone=settings.TIME_ZONE)
    task = rule.schedule or PeriodicTask(task="discovery.run_rule", args=f"[{rule.pk}]",
                                         expire_seconds=CRONTAB_EXPIRE_SECONDS)
    task.name, task.crontab, task.interval, task.enabled = f"Discovery: {rule.name}", crontab, None, rule.enabled
    task.save()
    if rule.schedule_id != task.pk:
        DiscoveryRule.objects.filter(pk=rule.pk).update(schedule=task)
        rule.schedule = task
