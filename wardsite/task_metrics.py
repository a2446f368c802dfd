"""Celery task runs, failures and durations, counted in Redis from Celery's signals so that /metrics
(wardsite/self_metrics.py) reads the same figures whichever process serves it and however many workers run."""
from __future__ import annotations

import logging
import time

import redis
from celery.signals import task_postrun, task_prerun

from wardsite import kv

logger = logging.getLogger(__name__)
KEY = "wardflux:metrics:tasks"  # hash: "<task>|runs", "|failures", "|sum", "|cpu", "|le=<bound>"
BUCKETS = (0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, float("inf"))
# task id -> (monotonic, thread CPU) at its start, in the process running it. Thread CPU: a task runs in one
# thread whatever the pool (prefork: the child's main thread; threads: a pool thread), its event loops too.
_started: dict[str, tuple[float, float]] = {}


def connect() -> None:
    """Count every task from now on (called once per process from WardsiteConfig.ready())."""
    task_prerun.connect(_started_task, dispatch_uid="wardsite.task_metrics.prerun")
    task_postrun.connect(_finished_task, dispatch_uid="wardsite.task_metrics.postrun")


def _started_task(task_id: str, **kwargs) -> None:
    _started[task_id] = (time.monotonic(), time.thread_time())


def _finished_task(task_id: str, task, state: str | None = None, **kwargs) -> None:
    started = _started.pop(task_id, None)
    if started is None:
        return
    record(task.name, time.monotonic() - started[0], time.thread_time() - started[1], failed=state == "FAILURE")


def record(task: str, seconds: float, cpu_seconds: float = 0.0, *, failed: bool = False) -> None:
    """Count one run of `task` that took `seconds` (`cpu_seconds` of CPU); never fails the task (a Redis error is
    logged)."""
    fields = {f"{task}|runs": 1, **({f"{task}|failures": 1} if failed else {})}
    fields.update({f"{task}|le={bucket_label(bound)}": 1 for bound in BUCKETS if seconds <= bound})
    try:
        pipe = kv.connection().pipeline(transaction=False)
        for name, amount in fields.items():
            pipe.hincrby(KEY, name, amount)
        pipe.hincrbyfloat(KEY, f"{task}|sum", seconds)
        pipe.hincrbyfloat(KEY, f"{task}|cpu", cpu_seconds)
        pipe.execute()
    except redis.RedisError as exc:
        logger.warning("could not count a run of %s: %s", task, exc)


def read(connection: redis.Redis) -> dict[str, dict[str, float]]:
    """{task: {"runs": n, "failures": n, "sum": s, "cpu": s, "le=0.1": n, ...}} as counted so far."""
    tasks: dict[str, dict[str, float]] = {}
    for raw_name, raw_value in connection.hgetall(KEY).items():
        task, _, kind = raw_name.decode().rpartition("|")
        tasks.setdefault(task, {})[kind] = float(raw_value)
    return tasks


def bucket_label(bound: float) -> str:
    """A bucket's upper bound as Prometheus writes it (le="+Inf")."""
    return "+Inf" if bound == float("inf") else repr(bound)
