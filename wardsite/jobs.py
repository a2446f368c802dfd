"""Bulk jobs: long work over many selected objects (devices), run in batches by a Celery task, progress in Redis.

An app registers a job kind by name from its AppConfig.ready(): what to do with one batch of ids. The admin action
runs a small selection at once (`run_now`, up to the kind's `sync_limit`) and starts a job for a bigger one
(`start`); the task `wardsite.run_job` then runs one batch after another, each recorded here, and the progress page
(wardsite/job_views.py) reads `progress`; `cancel` stops a job after the batch in hand. One batch at a time per
job: a job of 2,000 devices never floods a queue, and a worker takes other tasks between its batches. The state
expires JOB_TTL_SECONDS after the last batch.
"""
from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import redis

from wardsite import kv

logger = logging.getLogger(__name__)

JOB_TTL_SECONDS = 24 * 3600  # a finished job's page stays readable for a day
KEY = "wardflux:job:{id}"  # hash: kind, params, user_id, total, done (also the next batch's offset), failed, queues,
# started, finished, cancelled
IDS_KEY = KEY + ":ids"  # list of the selected ids, in the order they are run
FAILURES_KEY = KEY + ":failures"  # list of JSON [label, reason]
RECENT_KEY = "wardflux:jobs"  # sorted set: the ids of the last day's jobs, scored by their start (Unix time)
JOB_ID = re.compile(r"[0-9a-f]{32}")


@dataclass
class BatchResult:
    """What a batch did: the items that failed, with why, and a line per item done (shown when run at once)."""

    failures: list[tuple[str, str]] = field(default_factory=list)  # (label, reason)
    notes: list[str] = field(default_factory=list)

    def add(self, other: BatchResult) -> None:
        self.failures += other.failures
        self.notes += other.notes


BatchRunner = Callable[[list[int], dict[str, Any]], BatchResult]
Router = Callable[[Sequence[int]], dict[int, str]]  # each id's Celery queue, "" for the default one


@dataclass(frozen=True)
class JobKind:
    """A kind of bulk job: `run(ids, params)` does one batch; selections up to `sync_limit` run in the request.

    Work that must run where the device is (a ping, an SNMP request: a remote site's poller) has a `route`; its
    batches go to each device's queue, and a selection with a device of a remote poller never runs in the request.
    """

    name: str
    title: str
    run: BatchRunner
    batch_size: int = 100
    sync_limit: int = 10
    route: Router | None = None

    def queues(self, ids: Sequence[int]) -> dict[int, str]:
        return self.route(ids) if self.route else {}

    def runs_here(self, ids: Sequence[int]) -> bool:
        """Whether the selection is small enough and local enough to run in the request."""
        return len(ids) <= self.sync_limit and not any(self.queues(ids).values())


@dataclass(frozen=True)
class Progress:
    """A job as its page shows it."""

    id: str
    title: str
    user_id: int
    total: int
    done: int
    failed: int
    started: float
    finished: float | None
    failures: list[tuple[str, str]]
    cancelled: float | None = None

    @property
    def succeeded(self) -> int:
        return self.done - self.failed

    @property
    def started_at(self) -> datetime:
        return datetime.fromtimestamp(self.started, tz=timezone.utc)

    @property
    def left(self) -> int:
        return self.total - self.done

    @property
    def stopped(self) -> bool:
        """Cancelled before all its items were done."""
        return self.cancelled is not None and self.done < self.total

    @property
    def seconds(self) -> float:
        return (self.finished or time.time()) - self.started


_kinds: dict[str, JobKind] = {}


def register(kind: JobKind) -> None:
    """Make a job kind known by its name (from an AppConfig.ready)."""
    _kinds[kind.name] = kind


def kind_named(name: str) -> JobKind:
    return _kinds[name]


def run_now(name: str, ids: Sequence[int], params: dict[str, Any]) -> BatchResult:
    """Run the job over `ids` here, batch by batch (a small selection, while the request waits)."""
    kind, result = _kinds[name], BatchResult()
    for start in range(0, len(ids), kind.batch_size):
        result.add(kind.run(list(ids[start:start + kind.batch_size]), params))
    return result


def start(name: str, ids: Sequence[int], params: dict[str, Any], user_id: int) -> str:
    """Record a new job over `ids` for the user and queue its first batch; returns the job's id. A routed kind's
    ids are run queue by queue (a batch never spans two)."""
    kind, job_id = _kinds[name], uuid.uuid4().hex
    queues = kind.queues(ids)
    ids = sorted(ids, key=lambda pk: queues.get(pk, ""))  # stable: the selection's order within a queue
    segments = [[n, queues.get(pk, "")] for n, pk in enumerate(ids)
                if n == 0 or queues.get(pk, "") != queues.get(ids[n - 1], "")]
    pipe, now = kv.connection().pipeline(), time.time()
    pipe.hset(KEY.format(id=job_id), mapping={
        "kind": kind.name, "params": json.dumps(params), "user_id": user_id, "total": len(ids), "done": 0,
        "failed": 0, "queues": json.dumps(segments), "started": now})
    if ids:
        pipe.rpush(IDS_KEY.format(id=job_id), *ids)
    else:
        pipe.hset(KEY.format(id=job_id), "finished", now)
    _expire(pipe, job_id)
    pipe.zadd(RECENT_KEY, {job_id: now})
    pipe.zremrangebyscore(RECENT_KEY, "-inf", now - JOB_TTL_SECONDS)  # their own keys have expired
    pipe.execute()
    if ids:
        send(job_id, 0)
    return job_id


def send(job_id: str, offset: int) -> None:
    """Queue the job's batch at `offset` on its devices' queue (the default one unless routed elsewhere)."""
    from wardsite.tasks import run_job  # the task calls back into this module

    queue, _ = _segment(kv.connection(), job_id, offset)
    run_job.apply_async((job_id, offset), **({"queue": queue} if queue else {}))


def _segment(connection: redis.Redis, job_id: str, offset: int) -> tuple[str, int | None]:
    """The queue of the job's ids from `offset` on, and where the next queue's ids begin (None: at the end)."""
    segments = json.loads(connection.hget(KEY.format(id=job_id), "queues") or "[]")
    queue, end = "", None
    for start, name in segments:
        if start <= offset:
            queue, end = name, None
        elif end is None:
            end = start
    return queue, end


def run_batch(job_id: str, offset: int) -> int | None:
    """Run the job's batch at `offset` and record it; the next batch's offset, or None when the job is done (or
    expired, or this batch was recorded already: a redelivered task)."""
    connection = kv.connection()
    name, params, done, cancelled = connection.hmget(KEY.format(id=job_id), "kind", "params", "done", "cancelled")
    if name is None or int(done) != offset or cancelled:
        return None
    kind = _kinds[name.decode()]
    _, segment_end = _segment(connection, job_id, offset)
    last = offset + kind.batch_size - 1 if segment_end is None else min(offset + kind.batch_size, segment_end) - 1
    ids = [int(pk) for pk in connection.lrange(IDS_KEY.format(id=job_id), offset, last)]
    result = _run_guarded(kind, ids, json.loads(params))
    return _record(connection, job_id, offset, len(ids), result.failures)


def _run_guarded(kind: JobKind, ids: list[int], params: dict[str, Any]) -> BatchResult:
    """The batch's result; a batch that raised (a bug, the soft time limit) fails each of its ids, and the job
    goes on with the next."""
    try:
        return kind.run(ids, params)
    except Exception as exc:  # noqa: BLE001 - recorded per item, and logged with its traceback
        logger.exception("bulk job %s: a batch of %d failed", kind.name, len(ids))
        return BatchResult(failures=[(f"#{pk}", f"the batch failed: {type(exc).__name__}: {exc}") for pk in ids])


def _record(connection: redis.Redis, job_id: str, offset: int, count: int,
            failures: list[tuple[str, str]]) -> int | None:
    """Add a batch's outcome unless another run of it did first; the next offset or None."""
    key = KEY.format(id=job_id)
    with connection.pipeline() as pipe:
        try:
            pipe.watch(key)
            total, done = (int(value or -1) for value in pipe.hmget(key, "total", "done"))
            if done != offset:
                return None
            pipe.multi()
            pipe.hset(key, "done", offset + count)
            pipe.hincrby(key, "failed", len(failures))
            if failures:
                pipe.rpush(FAILURES_KEY.format(id=job_id), *(json.dumps(failure) for failure in failures))
            if offset + count >= total:
                pipe.hset(key, "finished", time.time())
            _expire(pipe, job_id)
            pipe.execute()
        except redis.WatchError:
            return None
    return offset + count if offset + count < total and count else None


def cancel(job_id: str) -> bool:
    """Stop the job: no batch after the one in hand (if any) runs, and it counts as finished now. False when it had
    finished already (or is unknown)."""
    connection, key, now = kv.connection(), KEY.format(id=job_id), time.time()
    if not connection.exists(key) or not connection.hsetnx(key, "finished", now):
        return False
    connection.hset(key, "cancelled", now)
    return True


def _expire(pipe: redis.client.Pipeline, job_id: str) -> None:
    for key in (KEY, IDS_KEY, FAILURES_KEY):
        pipe.expire(key.format(id=job_id), JOB_TTL_SECONDS)


def progress(job_id: str, failures_shown: int = 1000) -> Progress | None:
    """The job's state, with its first `failures_shown` failures; None for an unknown or expired job."""
    if not JOB_ID.fullmatch(job_id):
        return None
    connection = kv.connection()
    state = {k.decode(): v.decode() for k, v in connection.hgetall(KEY.format(id=job_id)).items()}
    if not state:
        return None
    failures = connection.lrange(FAILURES_KEY.format(id=job_id), 0, failures_shown - 1) if failures_shown else []
    kind = _kinds.get(state["kind"])
    return Progress(
        id=job_id, title=kind.title if kind else state["kind"], user_id=int(state["user_id"]),
        total=int(state["total"]), done=int(state["done"]), failed=int(state["failed"]),
        started=float(state["started"]), finished=float(state["finished"]) if "finished" in state else None,
        failures=[tuple(json.loads(failure)) for failure in failures],
        cancelled=float(state["cancelled"]) if "cancelled" in state else None)


def recent(user_id: int | None, limit: int = 100) -> list[Progress]:
    """The last day's jobs, newest first, without their failures: the user's, or everybody's for None."""
    found = []
    for job_id in kv.connection().zrevrange(RECENT_KEY, 0, -1):
        job = progress(job_id.decode(), failures_shown=0)
        if job is not None and user_id in (None, job.user_id):
            found.append(job)
            if len(found) == limit:
                break
    return found
