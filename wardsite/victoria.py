"""The one VictoriaMetrics client: batched writes that survive an outage through a Redis spool, and MetricsQL queries.

Writes go to /api/v1/import/prometheus in chunks of CHUNK_LINES lines. A chunk VictoriaMetrics cannot take
(connection error, timeout, 5xx, after retries) is pushed as its exact payload to the Redis list `spool_key`;
`replay_spool` sends spooled chunks in order while holding the Redis lock `<spool_key>:lock`.
"""
from __future__ import annotations

import functools
import logging
import math
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice

import redis
import requests
from django.conf import settings
from redis.exceptions import LockNotOwnedError
from redis.lock import Lock

from wardsite.text import quote

logger = logging.getLogger(__name__)

# Below ~1k lines per POST the HTTP overhead dominates; 10k lines (~1 MB) reach ~0.9 M samples/s.
CHUNK_LINES = 10_000
BACKOFF_SECONDS = 0.2
REPLAY_AFTER_WRITE_CHUNKS = 20
DEFAULT_SPOOL_KEY = "wardflux:victoria:spool"

_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_LABEL_VALUE_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n"})


def escape_label_value(value: str) -> str:
    """A label value as it goes between double quotes, in the exposition format and in MetricsQL."""
    return value.translate(_LABEL_VALUE_ESCAPES)


@dataclass(frozen=True, slots=True)
class Sample:
    """One value of one series; names are checked here, so a bad one fails before any I/O."""

    name: str
    labels: Mapping[str, str]
    value: float
    timestamp_ms: int | None = None  # None: the time of write()

    def __post_init__(self) -> None:
        if not _METRIC_NAME.fullmatch(self.name):
            raise ValueError(f"invalid metric name {self.name!r}")
        for label, value in self.labels.items():
            if not LABEL_NAME.fullmatch(label):
                raise ValueError(f"invalid label name {quote(label)} on metric {self.name}")
            if not isinstance(value, str):  # the writer escapes text only; anything else would fail the whole write
                raise ValueError(f"label {label} on metric {self.name}: a value must be text, not {quote(value)}")


class VictoriaError(Exception):
    """VictoriaMetrics refused a request or could not be reached (and, for writes, the spool failed too)."""


class _Unavailable(VictoriaError):
    """VictoriaMetrics did not take a write but may later: connection error, timeout or 5xx."""


def format_samples(samples: Iterable[Sample], *, now_ms: int | None = None) -> str:
    """Prometheus exposition lines, timestamps in ms; samples without one get `now_ms` (default: now)."""
    now_ms = _now_ms() if now_ms is None else now_ms
    return "".join(_format_line(sample, now_ms) for sample in samples)


def _format_line(sample: Sample, now_ms: int) -> str:
    labels = ",".join(f'{name}="{escape_label_value(value)}"' for name, value in sample.labels.items())
    series = f"{sample.name}{{{labels}}}" if labels else sample.name
    timestamp = now_ms if sample.timestamp_ms is None else sample.timestamp_ms
    return f"{series} {_format_value(sample.value)} {timestamp}\n"


def _format_value(value: float) -> str:
    value = float(value)
    if math.isfinite(value):
        return repr(value)
    return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _chunks(samples: Iterable[Sample], size: int) -> Iterator[list[Sample]]:
    iterator = iter(samples)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _error_text(response: requests.Response) -> str:
    """VictoriaMetrics' own error message: JSON `error` for the query API, plain text elsewhere."""
    try:
        return str(response.json()["error"])
    except (ValueError, KeyError, TypeError):
        return response.text.strip()[:1000]


class VictoriaClient:
    """Writes samples to and queries one VictoriaMetrics; keep one per process (get_client does)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10,
        retries: int = 2,
        redis_url: str | None = None,
        spool_key: str = DEFAULT_SPOOL_KEY,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.spool_key = spool_key
        self._session = session or requests.Session()
        self._redis = (
            redis.Redis.from_url(redis_url, socket_timeout=timeout, socket_connect_timeout=timeout)
            if redis_url
            else None
        )
        # Long enough for one chunk's POST and renewed after each, so it runs out only if a replayer dies or hangs.
        self._lock_timeout = max(30.0, 6 * timeout)

    # --- writes ----------------------------------------------------------------------------------

    def write(self, samples: Iterable[Sample]) -> int:
        """Send samples, spooling what VictoriaMetrics cannot take; return how many were accepted or spooled."""
        now_ms = _now_ms()  # fixed now, so a spooled chunk replays with the time it was collected
        count = spooled = 0
        outage: _Unavailable | None = None
        for chunk in _chunks(samples, CHUNK_LINES):
            payload = format_samples(chunk, now_ms=now_ms).encode()
            if outage is None:
                try:
                    self._post_with_retries(payload)
                except _Unavailable as exc:
                    outage = exc  # VM is down: spool the remaining chunks without waiting on it again
            if outage is not None:
                self._spool(payload, outage)
                spooled += len(chunk)
            count += len(chunk)
        if outage is not None:
            logger.warning("VictoriaMetrics write failed (%s): spooled %d samples to Redis", outage, spooled)
        elif count:
            self._replay_after_write()
        return count

    def _post(self, payload: bytes) -> None:
        """POST one chunk once; _Unavailable for transient failures, VictoriaError when VM rejects the payload."""
        try:
            response = self._session.post(
                f"{self.base_url}/api/v1/import/prometheus", data=payload, timeout=self.timeout
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _Unavailable(f"VictoriaMetrics at {self.base_url} is unreachable: {exc}") from exc
        if response.status_code >= 500:
            raise _Unavailable(f"VictoriaMetrics answered HTTP {response.status_code}: {_error_text(response)}")
        if response.status_code >= 400:
            # Our payload or URL is wrong: spooling it would only fail again on every replay.
            status = response.status_code
            raise VictoriaError(f"VictoriaMetrics rejected a write (HTTP {status}): {_error_text(response)}")

    def _post_with_retries(self, payload: bytes) -> None:
        for attempt in range(self.retries + 1):
            try:
                return self._post(payload)
            except _Unavailable:
                if attempt == self.retries:
                    raise
                time.sleep(BACKOFF_SECONDS * 2**attempt)

    def _spool(self, payload: bytes, outage: _Unavailable) -> None:
        if self._redis is None:
            raise VictoriaError(f"{outage}; no Redis spool is configured, the samples are lost") from outage
        try:
            self._redis.rpush(self.spool_key, payload)
        except redis.RedisError as exc:
            raise VictoriaError(
                f"VictoriaMetrics and the Redis spool are both down, samples not stored: {outage}; Redis: {exc}"
            ) from exc

    def _replay_after_write(self) -> None:
        """Catch up on an earlier outage; this write already succeeded, so a failure here only logs."""
        try:
            if self.spool_size():
                # bounded, so a collector task never spends long catching up; the periodic task does the rest
                self.replay_spool(max_chunks=REPLAY_AFTER_WRITE_CHUNKS)
        except VictoriaError as exc:
            logger.warning("Replaying the VictoriaMetrics spool failed: %s", exc)

    # --- spool -----------------------------------------------------------------------------------

    def spool_size(self) -> int:
        """Chunks waiting in the Redis spool."""
        if self._redis is None:
            return 0
        with self._spool_errors("reading its length"):
            return self._redis.llen(self.spool_key)

    def replay_spool(self, max_chunks: int | None = None) -> int:
        """Send spooled chunks oldest first; stop at the first failure and keep the rest. Return chunks sent.

        Does nothing (returns 0) while another worker holds the replay lock.
        """
        if self._redis is None:
            return 0
        with self._spool_errors("replaying it"):
            lock = self._redis.lock(f"{self.spool_key}:lock", timeout=self._lock_timeout, blocking=False)
            if not lock.acquire():
                return 0
            try:
                replayed = self._replay_chunks(lock, max_chunks)
            finally:
                if lock.owned():
                    lock.release()
        if replayed:
            self.flush()
        return replayed

    def _replay_chunks(self, lock: Lock, max_chunks: int | None) -> int:
        replayed = 0
        while max_chunks is None or replayed < max_chunks:
            payload = self._redis.lindex(self.spool_key, 0)
            if payload is None:
                break
            try:
                self._post(payload)
            except VictoriaError as exc:
                logger.warning("Replay of the VictoriaMetrics spool stopped, %d chunks kept: %s",
                               self._redis.llen(self.spool_key), exc)
                break
            try:
                # Pop only while still holding the lock: had it run out during the POST, another worker may have
                # sent and popped this chunk already, and popping again would drop one that was never sent.
                lock.reacquire()
            except LockNotOwnedError:
                logger.warning("Lost the VictoriaMetrics spool lock during a slow replay; another worker goes on")
                break
            self._redis.lpop(self.spool_key)
            replayed += 1
        return replayed

    @contextmanager
    def _spool_errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except redis.RedisError as exc:
            raise VictoriaError(f"Redis spool {self.spool_key!r} failed while {action}: {exc}") from exc

    # --- reads -----------------------------------------------------------------------------------

    def query(self, expr: str, at: float | None = None) -> list[dict]:
        """Instant query (/api/v1/query) at `at` (Unix seconds; default: VictoriaMetrics' now)."""
        params: dict[str, object] = {"query": expr}
        if at is not None:
            params["time"] = at
        return self._query_api("/api/v1/query", params)

    def query_range(self, expr: str, start: float, end: float, step: str | float) -> list[dict]:
        """Range query (/api/v1/query_range); `step` in seconds or a duration such as "30s"."""
        return self._query_api("/api/v1/query_range", {"query": expr, "start": start, "end": end, "step": step})

    def flush(self) -> None:
        """Make everything written so far searchable at once (a new series otherwise takes up to about 10 s)."""
        self._request("GET", "/internal/force_flush")

    def _query_api(self, path: str, params: dict[str, object]) -> list[dict]:
        # POST: compiled alert expressions can outgrow a URL.
        body = self._request("POST", path, data=params).json()
        return body["data"]["result"]

    def _request(self, method: str, path: str, **kwargs: object) -> requests.Response:
        try:
            response = self._session.request(method, f"{self.base_url}{path}", timeout=self.timeout, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise VictoriaError(f"VictoriaMetrics at {self.base_url} is unreachable: {exc}") from exc
        if not response.ok:
            raise VictoriaError(f"VictoriaMetrics answered HTTP {response.status_code}: {_error_text(response)}")
        return response


def get_client() -> VictoriaClient:
    """The client for the current settings (one per distinct settings, so tests that override them get theirs)."""
    return _client_for(
        settings.VICTORIA_URL, settings.VICTORIA_TIMEOUT, settings.REDIS_URL, settings.VICTORIA_SPOOL_KEY
    )


@functools.lru_cache(maxsize=16)
def _client_for(url: str, timeout: float, redis_url: str, spool_key: str) -> VictoriaClient:
    return VictoriaClient(url, timeout=timeout, redis_url=redis_url, spool_key=spool_key)
