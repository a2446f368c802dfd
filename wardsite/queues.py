"""The Celery queues: which queue a task goes to, its time limits, and how deep each queue is and who consumes it.

Routes are `CELERY_TASK_ROUTES` (one queue per kind of work); a device group may pin its batches to a queue of its
own (a remote poller), which the broker learns when the first batch is published there.
"""
from __future__ import annotations

import fnmatch
import logging
from typing import TypedDict

import redis
from django.conf import settings
from kombu.transport.redis import Channel

logger = logging.getLogger(__name__)
_SEP = Channel.sep  # kombu's separator in binding entries and priority queue names
INSPECT_TIMEOUT_SECONDS = 1.0


class QueueState(TypedDict):
    queue: str
    depth: int  # messages waiting (not those a worker has taken)
    consumers: int  # workers consuming the queue that answered within INSPECT_TIMEOUT_SECONDS


def queue_of(task_name: str) -> str:
    """The queue `task_name` is routed to: an exact route, else the first matching pattern, else the default."""
    routes = settings.CELERY_TASK_ROUTES
    if task_name in routes:
        return routes[task_name]["queue"]
    for pattern, route in routes.items():
        if fnmatch.fnmatchcase(task_name, pattern):
            return route["queue"]
    return settings.CELERY_TASK_DEFAULT_QUEUE


class TimeLimitsByQueue:
    """A Celery task annotation: each task gets the time limits of its queue (TASK_TIME_LIMITS)."""

    def annotate(self, task) -> dict[str, float] | None:
        hard = settings.TASK_TIME_LIMITS.get(queue_of(task.name))
        return None if hard is None else {"time_limit": hard, "soft_time_limit": hard * 0.9}

    def annotate_any(self) -> None:
        return None


def known_queues(broker: redis.Redis) -> set[str]:
    """The routed queues, the default one and every queue the broker has a binding for (pinned groups' too)."""
    queues = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    queues.add(settings.CELERY_TASK_DEFAULT_QUEUE)
    for key in broker.scan_iter(match="_kombu.binding.*"):
        if b"pidbox" in key or key.startswith(b"_kombu.binding.celeryev"):
            continue  # remote control and events, not work
        for member in broker.smembers(key):
            queues.add(member.decode().split(_SEP)[-1])
    return {queue for queue in queues if queue}


def _depth(broker: redis.Redis, queue: str) -> int:
    """Messages waiting in `queue`, over kombu's priority sub-queues."""
    steps = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("priority_steps", [0, 3, 6, 9])
    names = [queue if not step else f"{queue}{_SEP}{step}" for step in steps]
    return sum(broker.llen(name) for name in names)


def consumers_by_queue(timeout: float = INSPECT_TIMEOUT_SECONDS) -> dict[str, int]:
    """How many workers consume each queue, as the workers that answer within `timeout` say."""
    from wardsite.celery import app

    answers = app.control.inspect(timeout=timeout).active_queues() or {}
    counts: dict[str, int] = {}
    for queues in answers.values():
        for queue in queues or ():
            counts[queue["name"]] = counts.get(queue["name"], 0) + 1
    return counts


def queue_report(timeout: float = INSPECT_TIMEOUT_SECONDS) -> list[QueueState]:
    """Each queue's depth and consumers, sorted by name; a queue with depth and no consumer is stuck."""
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=timeout + 1)
    try:
        consumers = consumers_by_queue(timeout)
        queues = known_queues(broker) | set(consumers)
        return [QueueState(queue=q, depth=_depth(broker, q), consumers=consumers.get(q, 0)) for q in sorted(queues)]
    finally:
        broker.close()


def warn_unconsumed() -> list[str]:
    """Log a warning for each queue that has messages waiting and no worker consuming it; returns their names."""
    stuck = [state for state in queue_report() if state["depth"] and not state["consumers"]]
    for state in stuck:
        logger.warning("Celery queue %r has %d waiting tasks and no worker consuming it: start a worker with "
                       "-Q %s (docs/architecture.md, \"Queues and workers\")", state["queue"], state["depth"],
                       state["queue"])
    return [state["queue"] for state in stuck]
