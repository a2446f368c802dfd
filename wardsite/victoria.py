"""The one VictoriaMetrics client: batched writes that survive an outage through a Redis spool, and MetricsQL queries.

Writes go to /api/v1/import/prometheus in chunks of CHUNK_LINES lines, each POSTed once with the short write
timeout. A chunk VictoriaMetrics does not take at once (connection error, timeout, 5xx) is pushed to the spool
(wardsite.victoria_spool, in its own Redis database, capped in bytes) and opens the write breaker, so the writes
that follow, in every process, go to the spool without waiting on VictoriaMetrics. `replay_spool` sends spooled
chunks in order while holding the replay lock, once the breaker has closed; a chunk VictoriaMetrics rejects (4xx)
goes to the dead letters and the replay goes on.
"""
from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from urllib.parse import urlsplit

import redis
import requests
from django.conf import settings
from redis.exceptions import LockNotOwnedError
from redis.lock import Lock

from wardsite import exposition
from wardsite.exposition import Sample, format_samples
from wardsite.victoria_spool import SAMPLE_OUTCOMES, SPOOL_STAT_KEYS, Spool, samples_in

logger = logging.getLogger(__name__)

# Below ~1k lines per POST the HTTP overhead dominates; 10k lines (~1 MB) reach ~0.9 M samples/s.
CHUNK_LINES = 10_000
REPLAY_AFTER_WRITE_CHUNKS = 20
DEFAULT_SPOOL_KEY = "wardflux:victoria:spool"

_CLUSTER_PATH = re.compile(r"/(insert|select)/\d+(:\d+)?/")  # a vminsert / vmselect URL: /insert/<tenant>/...


class VictoriaError(Exception):
    """VictoriaMetrics refused a request or could not be reached (and, for writes, the spool failed too)."""


class _Unavailable(VictoriaError):
    """VictoriaMetrics did not take a write but may later: connection error, timeout, 5xx or 429."""


class _Rejected(VictoriaError):
    """VictoriaMetrics refused a write (HTTP 4xx): its payload is bad, or our URL is."""


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
    """Writes samples to and queries one VictoriaMetrics; keep one per process (get_client does).

    Writes have their own short `write_timeout` and are not retried: a chunk VictoriaMetrics does not take at once
    goes to the spool, and the breaker opens for `breaker_seconds`, during which every process sharing the spool
    spools straight away; so a hung VictoriaMetrics costs one timeout per breaker period, not one per batch.
    """

    def __init__(
        self,
        base_url: str,
        *,
        read_url: str | None = None,
        timeout: float = 10,
        write_timeout: float = 2,
        breaker_seconds: float = 30,
        redis_url: str | None = None,
        spool_key: str = DEFAULT_SPOOL_KEY,
        spool_max_bytes: int = 256 * 2**20,
        dead_letter_max: int = 20,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")  # writes (import)
        self.read_url = (read_url or base_url).rstrip("/")  # queries and flush
        self.timeout = timeout
        self.write_timeout = write_timeout
        self.breaker_seconds = breaker_seconds
        self.spool_key = spool_key
        self._session = session or requests.Session()
        self.spool: Spool | None = None
        if redis_url:
            connection = redis.Redis.from_url(redis_url, socket_timeout=write_timeout,
                                              socket_connect_timeout=write_timeout)
            self.spool = Spool(connection, spool_key, max_bytes=spool_max_bytes, dead_letter_max=dead_letter_max)
        # Long enough for one chunk's POST and renewed after each, so it runs out only if a replayer dies or hangs.
        self._lock_timeout = max(30.0, 6 * write_timeout)

    # --- writes ----------------------------------------------------------------------------------

    def write(self, samples: Iterable[Sample]) -> int:
        """Send samples, spooling what VictoriaMetrics does not take at once; return how many were accepted or
        spooled. VictoriaError when it rejected a chunk (kept as a dead letter; the other chunks still go)."""
        now_ms = exposition.current_ms()  # fixed now, so a spooled chunk replays with the time it was collected
        count = spooled = refused = 0
        outage: _Unavailable | None = None if self._may_write() else _Unavailable("the write breaker is open")
        rejected: list[VictoriaError] = []
        for chunk in _chunks(samples, CHUNK_LINES):
            payload = format_samples(chunk, now_ms=now_ms).encode()
            count += len(chunk)
            if outage is None:
                try:
                    self._post(payload, self.write_timeout)
                    continue
                except _Unavailable as exc:
                    outage = exc
                    self._trip(exc)  # the other chunks and the other workers' writes skip VictoriaMetrics
                except _Rejected as exc:
                    if not self._payload_at_fault():
                        raise  # our URL is wrong, not the data: every chunk would fail alike
                    rejected.append(exc)
                    refused += len(chunk)
                    self._keep_rejected(payload, len(chunk))
                    continue
            self._spool(payload, len(chunk), outage)
            spooled += len(chunk)
        if outage is not None:
            logger.warning("VictoriaMetrics write not sent (%s): spooled %d samples to Redis", outage, spooled)
        elif count and not rejected:
            self._after_success()
        self._count(sent=count - spooled - refused, spooled=spooled)
        if rejected:
            raise VictoriaError(f"{rejected[0]} ({len(rejected)} chunks kept as dead letters)")
        return count

    def _post(self, payload: bytes, timeout: float) -> None:
        """POST one chunk once; _Unavailable for transient failures, VictoriaError when VM rejects the payload."""
        try:
            response = self._session.post(
                f"{self.base_url}/api/v1/import/prometheus", data=payload, timeout=timeout
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _Unavailable(f"VictoriaMetrics at {self.base_url} is unreachable: {exc}") from exc
        status = response.status_code
        if status >= 500 or status == 429:
            raise _Unavailable(f"VictoriaMetrics answered HTTP {status}: {_error_text(response)}")
        if status >= 400:
            raise _Rejected(f"VictoriaMetrics rejected a write (HTTP {status}): {_error_text(response)}")

    def _payload_at_fault(self) -> bool:
        """After a 4xx: whether VictoriaMetrics takes an empty write to the same URL, so the rejected chunk was to
        blame (and goes to the dead letters) rather than our URL (and every chunk would be refused alike)."""
        try:
            self._post(b"", self.write_timeout)
        except VictoriaError:
            return False
        return True

    def _may_write(self) -> bool:
        """The breaker's answer; with no spool, or its Redis down, always try VictoriaMetrics."""
        if self.spool is None:
            return True
        try:
            return self.spool.may_write(self.write_timeout + 1)
        except redis.RedisError:
            return True

    def _trip(self, outage: _Unavailable) -> None:
        if self.spool is None:
            return
        try:
            until = self.spool.trip(self.breaker_seconds)
        except redis.RedisError:
            return
        logger.warning("VictoriaMetrics write breaker open for %ss (until %s): %s", self.breaker_seconds,
                       time.strftime("%H:%M:%S", time.localtime(until)), outage)

    def _spool(self, payload: bytes, samples: int, outage: _Unavailable) -> None:
        if self.spool is None:
            raise VictoriaError(f"{outage}; no Redis spool is configured, the samples are lost") from outage
        try:
            self.spool.push(payload, samples)
        except redis.RedisError as exc:
            raise VictoriaError(
                f"VictoriaMetrics and the Redis spool are both down, samples not stored: {outage}; Redis: {exc}"
            ) from exc

    def _keep_rejected(self, payload: bytes, samples: int) -> None:
        """A chunk of a live write that VictoriaMetrics rejected: kept with the replay's dead letters."""
        if self.spool is None:
            return
        try:
            self.spool.add_dead_letter(payload, samples)
        except redis.RedisError as exc:
            logger.warning("Could not keep a rejected VictoriaMetrics chunk as a dead letter: %s", exc)

    def _count(self, **outcomes: int) -> None:
        """Count samples by outcome in the spool's Redis, for /metrics; a Redis error only logs."""
        if self.spool is None:
            return
        try:
            self.spool.count(**outcomes)
        except redis.RedisError as exc:
            logger.info("could not count written samples: %s", exc)

    def _after_success(self) -> None:
        """This write went through: close the breaker if it had tripped, and catch up on the spool (bounded, so a
        collector task never spends long catching up; the periodic task does the rest). Failures here only log."""
        try:
            if self.spool is not None:
                self.spool.close_breaker()
            if self.spool_size():
                self.replay_spool(max_chunks=REPLAY_AFTER_WRITE_CHUNKS)
        except (VictoriaError, redis.RedisError) as exc:
            logger.warning("Replaying the VictoriaMetrics spool failed: %s", exc)

    # --- spool -----------------------------------------------------------------------------------

    def spool_size(self) -> int:
        """Chunks waiting in the Redis spool."""
        if self.spool is None:
            return 0
        with self._spool_errors("reading its length"):
            return self.spool.size()

    def spool_stats(self) -> dict[str, int | float | None]:
        """The spool's figures (wardsite.victoria_spool.Spool.stats); all zero without a spool."""
        if self.spool is None:
            return dict.fromkeys(SPOOL_STAT_KEYS, 0) | {"breaker_open_until": None}
        with self._spool_errors("reading its figures"):
            return self.spool.stats()

    def sample_counts(self) -> dict[str, int]:
        """Samples VictoriaMetrics took at once (sent), took from the spool (replayed), and spooled, so far."""
        if self.spool is None:
            return dict.fromkeys(SAMPLE_OUTCOMES, 0)
        with self._spool_errors("reading its counters"):
            return self.spool.counted()

    def replay_spool(self, max_chunks: int | None = None) -> int:
        """Send spooled chunks oldest first, moving any VictoriaMetrics rejects to the dead letters; stop at the
        first transient failure (and open the breaker). Return chunks sent.

        Does nothing (returns 0) while the breaker is open or another worker holds the replay lock.
        """
        if self.spool is None:
            return 0
        with self._spool_errors("replaying it"):
            if self.spool.is_open():
                return 0
            lock = self.spool.lock(self._lock_timeout)
            if not lock.acquire():
                return 0
            try:
                replayed = self._replay_chunks(lock, max_chunks)
            finally:
                if lock.owned():
                    lock.release()
        if replayed:
            try:
                self.flush()
            except VictoriaError as exc:  # a vmselect or vmagent has no force_flush: searchable a little later
                logger.info("could not flush VictoriaMetrics after the replay: %s", exc)
        return replayed

    def _replay_chunks(self, lock: Lock, max_chunks: int | None) -> int:
        replayed = attempts = samples = 0
        while max_chunks is None or attempts < max_chunks:
            chunk = self.spool.head()
            if chunk is None:
                break
            attempts += 1
            try:
                self._post(chunk, self.write_timeout)
            except _Unavailable as exc:
                self._trip(exc)
                logger.warning("Replay of the VictoriaMetrics spool stopped, %d chunks kept: %s",
                               self.spool.size(), exc)
                break
            except _Rejected as exc:
                if not self._payload_at_fault():
                    logger.error("Replay of the VictoriaMetrics spool stopped, chunks kept: %s", exc)
                    break
                if self.spool.dead_letter(chunk):
                    logger.error("VictoriaMetrics rejected a spooled chunk, moved to %s:dead: %s", self.spool_key, exc)
                continue
            try:
                # Pop only while still holding the lock: had it run out during the POST, another worker may have
                # sent and popped this chunk already, and popping again would drop one that was never sent.
                lock.reacquire()
            except LockNotOwnedError:
                logger.warning("Lost the VictoriaMetrics spool lock during a slow replay; another worker goes on")
                break
            self.spool.pop_head(chunk)
            replayed, samples = replayed + 1, samples + samples_in(chunk)
        self._count(replayed=samples)
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
            response = self._session.request(method, f"{self.read_url}{path}", timeout=self.timeout, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise VictoriaError(f"VictoriaMetrics at {self.read_url} is unreachable: {exc}") from exc
        if not response.ok:
            raise VictoriaError(f"VictoriaMetrics answered HTTP {response.status_code}: {_error_text(response)}")
        return response


def get_client() -> VictoriaClient:
    """The client for the current settings (one per distinct settings, so tests that override them get theirs)."""
    return _client_for(
        settings.VICTORIA_WRITE_URL or settings.VICTORIA_URL, settings.VICTORIA_READ_URL or settings.VICTORIA_URL,
        settings.VICTORIA_TIMEOUT, settings.VICTORIA_WRITE_TIMEOUT,
        settings.VICTORIA_BREAKER_SECONDS, settings.VICTORIA_SPOOL_URL, settings.VICTORIA_SPOOL_KEY,
        settings.VICTORIA_SPOOL_MAX_BYTES, settings.VICTORIA_DEAD_LETTER_MAX_CHUNKS,
    )


@functools.lru_cache(maxsize=16)
def _client_for(url: str, read_url: str, timeout: float, write_timeout: float, breaker_seconds: float, spool_url: str,
                spool_key: str, spool_max_bytes: int, dead_letter_max: int) -> VictoriaClient:
    return VictoriaClient(url, read_url=read_url, timeout=timeout, write_timeout=write_timeout, breaker_seconds=breaker_seconds,
                          redis_url=spool_url, spool_key=spool_key, spool_max_bytes=spool_max_bytes,
                          dead_letter_max=dead_letter_max)


def spool_stats() -> dict[str, int | float | None]:
    """The spool's figures for health and self-metrics: chunks, bytes, dropped_chunks, dropped_samples,
    dead_letters, dead_letter_samples, dead_letters_kept, breaker_open_until (Unix seconds, None when closed).
    VictoriaError when the spool's Redis cannot be read."""
    return get_client().spool_stats()


def sample_counts() -> dict[str, int]:
    """Samples written so far by outcome (sent, replayed, spooled); VictoriaError when the spool's Redis fails."""
    return get_client().sample_counts()


def health_urls() -> list[str]:
    """Where to ask VictoriaMetrics if it is up: the write and the read side (one URL when they are the same)."""
    urls = dict.fromkeys([settings.VICTORIA_WRITE_URL or settings.VICTORIA_URL,
                          settings.VICTORIA_READ_URL or settings.VICTORIA_URL])
    return [service_url(url, "/health") for url in urls]


def service_url(url: str, path: str) -> str:
    """`path` of the VictoriaMetrics process behind `url` (/health, /flags): a cluster component's URL
    (`…/insert/0/prometheus`, `…/select/0/prometheus`) serves them at its root."""
    if _CLUSTER_PATH.search(url):
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}{path}"
    return url + path
