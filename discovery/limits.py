"""What scans may cost: packets per second, TCP ports probed, scans at once, and how often a schedule runs one.
Each refusal names the limit and the setting that sets it."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from croniter import croniter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from discovery.choices import RunState
from discovery.targets import ScanRefused
from wardsite import kv

START_LOCK = "wardflux:discovery:start"  # counting the running scans and queuing one is done by one at a time
DAY = 1440  # minutes


class TooManyScans(ScanRefused):
    """Enough scans are queued or running already (the API answers 429)."""


def rate_problem(rate: int) -> str:
    """Why a scan of `rate` packets per second is refused, or ''."""
    if rate > settings.DISCOVERY_MAX_RATE:
        return f"{rate} packets per second is above the maximum of DISCOVERY_MAX_RATE ({settings.DISCOVERY_MAX_RATE})"
    return ""


def ports_problem(ports: Sequence[int]) -> str:
    """Why probing these TCP ports is refused, or ''."""
    if len(ports) > settings.DISCOVERY_MAX_TCP_PORTS:
        return (f"{len(ports)} TCP ports is more than the maximum of DISCOVERY_MAX_TCP_PORTS "
                f"({settings.DISCOVERY_MAX_TCP_PORTS})")
    return ""


def validate_rate(value: int) -> None:
    """Model field validator of a rule's rate limit."""
    if problem := rate_problem(value):
        raise ValidationError(problem)


def check_probes(rate: int, ports: Sequence[int]) -> None:
    """ScanRefused if a scan at `rate` probing `ports` is above the maxima (a rule saved before they were set)."""
    if problem := rate_problem(rate) or ports_problem(ports):
        raise ScanRefused(f"refused: {problem}")


def _active_runs():
    """Runs queued or running, except those too old to be alive (their worker died)."""
    from discovery.models import DiscoveryRun

    since = timezone.now() - timedelta(minutes=settings.DISCOVERY_RUN_STALE_MINUTES)
    return DiscoveryRun.objects.filter(state__in=[RunState.QUEUED, RunState.RUNNING], created__gte=since)


def check_concurrency(user=None) -> None:
    """TooManyScans when DISCOVERY_MAX_SCANS scans are active, or DISCOVERY_MAX_SCANS_PER_USER of `user`'s."""
    active = _active_runs()
    total, per_user = settings.DISCOVERY_MAX_SCANS, settings.DISCOVERY_MAX_SCANS_PER_USER
    if active.count() >= total:
        raise TooManyScans(f"refused: {total} scans are queued or running already, the maximum of "
                           f"DISCOVERY_MAX_SCANS; try again when one has finished")
    if user is not None and active.filter(requested_by=user).count() >= per_user:
        raise TooManyScans(f"refused: you have {per_user} scans queued or running already, the maximum of "
                           f"DISCOVERY_MAX_SCANS_PER_USER; try again when one has finished")


@contextmanager
def admitted(user=None) -> Iterator[None]:
    """Check the concurrency limits and keep other starts out until the caller has queued its run."""
    with kv.connection().lock(START_LOCK, timeout=30, blocking_timeout=10):
        check_concurrency(user)
        yield


def shortest_gap_minutes(cron: str) -> int:
    """The shortest time in minutes between two runs of a 5-field cron expression (at most a day is reported)."""
    minutes, hours, *days = croniter(cron).expanded
    every_minute = range(60) if minutes == ["*"] else minutes
    every_hour = range(24) if hours == ["*"] else hours
    times = sorted(h * 60 + m for h in every_hour for m in every_minute)
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    if _fires_on_consecutive_days(cron):
        gaps.append(DAY - times[-1] + times[0])  # the last run of a day to the first of the next
    return min(gaps, default=DAY)


def _fires_on_consecutive_days(cron: str) -> bool:
    """Whether the day fields (day of month, month, weekday) let two days in a row both run (looked at over
    four years, which covers month ends and leap days)."""
    day_fields = " ".join(cron.split()[2:])
    days = croniter(f"0 0 {day_fields}", datetime(2024, 1, 1))
    previous = days.get_next(datetime)
    for _ in range(4 * 366):
        day = days.get_next(datetime)
        if (day - previous).days == 1:
            return True
        if day.year > 2027:
            return False
        previous = day
    return False


def schedule_problem(cron: str) -> str:
    """Why a rule may not be scheduled by `cron` (it would run too often), or ''."""
    gap, least = shortest_gap_minutes(cron), settings.DISCOVERY_MIN_SCHEDULE_MINUTES
    if gap < least:
        return (f"{cron!r} runs the scan every {gap} minute(s) at the closest; DISCOVERY_MIN_SCHEDULE_MINUTES "
                f"allows one every {least} minutes at most")
    return ""


def scheduled_too_soon(rule_id: int) -> bool:
    """Whether the rule's schedule came back sooner than a schedule may run it (its Periodic task was edited to
    run more often): an earlier scheduled run (no user) began less than DISCOVERY_MIN_SCHEDULE_MINUTES ago, with
    a minute of slack for the scheduler's timing."""
    from discovery.models import DiscoveryRun

    least = timedelta(minutes=settings.DISCOVERY_MIN_SCHEDULE_MINUTES - 1)
    return DiscoveryRun.objects.filter(rule_id=rule_id, requested_by=None, created__gt=timezone.now() - least).exists()
