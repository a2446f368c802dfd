"""When the watched loops (beat, each collector's cycle, alert evaluation) last ran: a Redis key per loop.

`beat(name)` is one line in the task that runs the loop; `watch()` (from an AppConfig.ready()) says how often it
should run, so health (wardsite/health.py), the admin banner and /metrics can tell a stopped loop.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from django.conf import settings

from wardsite import kv
from wardsite.victoria import Sample, VictoriaError, get_client

logger = logging.getLogger(__name__)
KEY = "wardflux:heartbeat:{name}"
STOPPED_METRIC = "wardflux_loop_stopped"  # per loop: 1 while stale, else 0 (the built-in "Collection stopped" rule)
BEAT_SECONDS = 15  # how often beat schedules its own heartbeat (wardsite/schedules.py)
_KEEP_SECONDS = 7 * 86400  # an old tick is still worth showing ("none for 3 days"), not forever


@dataclass(frozen=True)
class Watched:
    """A loop that should tick every `every()` seconds; `label` names it to people ("ICMP cycle")."""

    name: str
    label: str
    every: Callable[[], float]

    def stale_after(self) -> float:
        """Seconds without a tick after which the loop counts as stopped: HEALTH_STALE_SECONDS, or 3 ticks."""
        return max(float(settings.HEALTH_STALE_SECONDS), 3 * self.every())


@dataclass(frozen=True)
class Tick:
    """What is known of one watched loop now."""

    watched: Watched
    last: float | None  # Unix time of the last tick; None: never (or longer ago than a week)
    age: float | None

    @property
    def lateness(self) -> float | None:
        """How much later than its interval the loop is (0 while on time)."""
        return None if self.age is None else max(0.0, self.age - self.watched.every())

    @property
    def stale(self) -> bool:
        return self.age is None or self.age > self.watched.stale_after()

    def problem(self) -> str | None:
        """What to tell people ("no ICMP cycle for 2 minutes"), or None when on time."""
        if not self.stale:
            return None
        if self.age is None:
            return f"no {self.watched.label} recorded yet"
        return f"no {self.watched.label} for {in_words(self.age)}"


_watched: dict[str, Watched] = {}


def watch(name: str, label: str, every: Callable[[], float]) -> None:
    """Watch the loop that calls beat(name) (from an AppConfig.ready())."""
    _watched[name] = Watched(name, label, every)


def watched() -> list[Watched]:
    return list(_watched.values())


def beat(name: str, at: float | None = None) -> None:
    """Record a tick of `name`; never fails the task that calls it (a Redis error is logged)."""
    try:
        kv.connection().set(KEY.format(name=name), at if at is not None else time.time(), ex=_KEEP_SECONDS)
    except redis.RedisError as exc:
        logger.warning("could not record the %s heartbeat: %s", name, exc)


def ticks(connection: redis.Redis | None = None, now: float | None = None) -> list[Tick]:
    """Every watched loop's last tick (raises redis.RedisError when Redis cannot be read)."""
    connection = connection or kv.connection()
    now = time.time() if now is None else now
    loops = watched()
    values = connection.mget([KEY.format(name=loop.name) for loop in loops]) if loops else []
    result = []
    for loop, value in zip(loops, values):
        last = float(value) if value is not None else None
        result.append(Tick(loop, last, None if last is None else max(0.0, now - last)))
    return result


def record_stopped(now: float | None = None) -> int:
    """Write STOPPED_METRIC{loop=...} of every watched loop to VictoriaMetrics (from beat's heartbeat task), so an
    alert rule can tell when collection stops; returns how many samples were written or spooled."""
    now = time.time() if now is None else now
    try:
        found = ticks(now=now)
    except redis.RedisError as exc:
        logger.warning("could not read the heartbeats: %s", exc)
        return 0
    samples = [Sample(STOPPED_METRIC, {"loop": tick.watched.name}, float(tick.stale), int(now * 1000))
               for tick in found]
    try:
        return get_client().write(samples)
    except VictoriaError as exc:  # rejected: kept as a dead letter, nothing to retry here
        logger.warning("VictoriaMetrics refused the loop samples: %s", exc)
        return 0


def in_words(seconds: float) -> str:
    """'45 seconds', '2 minutes', '3 hours', '2 days' (rounded down)."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= 2 * size:
            return f"{int(seconds // size)} {unit}s"
    return f"{int(seconds)} seconds"
