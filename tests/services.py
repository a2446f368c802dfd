"""Real peer services for tests: a VictoriaMetrics process per session and a private Redis spool key per test."""
from __future__ import annotations

import ctypes
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
import requests

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Runs in the child before exec: the kernel kills VictoriaMetrics if pytest dies without its teardown."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def stop_process(process: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM, and SIGKILL if it has not exited after `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


TEST_FLAGS = (
    "-retentionPeriod=1",  # one month: the minimum is 1d, and tests write near now
    "-search.latencyOffset=0s",  # otherwise fresh points stay hidden for 30 s
    "-search.disableCache",
    "-dedup.minScrapeInterval=0s",
    "-memory.allowedPercent=5",
)


class VictoriaServer:
    """A victoria-metrics process on a fixed loopback port and data directory, so data survive stop()/start()."""

    def __init__(self, binary: str, data_dir: Path, port: int, flags: Sequence[str] = TEST_FLAGS) -> None:
        self.binary = binary
        self.flags = flags
        self.data_dir = data_dir
        self.log_path = data_dir.with_suffix(".log")
        self.url = f"http://127.0.0.1:{port}"
        self._port = port
        self._process: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start (a no-op when running) and wait until /health answers."""
        if self.running:
            return
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [
                    self.binary,
                    f"-httpListenAddr=127.0.0.1:{self._port}",
                    f"-storageDataPath={self.data_dir}",
                    *self.flags,
                    "-loggerLevel=WARN",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )
        self._wait_healthy()

    def stop(self) -> None:
        """Stop gracefully: on SIGTERM VictoriaMetrics writes its in-memory data to disk first."""
        if self._process is None:
            return
        self._process.send_signal(signal.SIGCONT)  # a paused server would not act on SIGTERM
        stop_process(self._process)
        self._process = None

    def pause(self) -> None:
        """SIGSTOP: the port still accepts connections (the kernel's backlog), nothing answers: a hung server."""
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._process.send_signal(signal.SIGCONT)

    def flush(self) -> None:
        """Make everything written so far searchable now."""
        requests.get(f"{self.url}/internal/force_flush", timeout=10).raise_for_status()

    def delete_all(self) -> None:
        """Delete every series, for test isolation."""
        requests.post(
            f"{self.url}/api/v1/admin/tsdb/delete_series", params={"match[]": '{__name__=~".+"}'}, timeout=10
        ).raise_for_status()

    def _wait_healthy(self, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            try:
                if requests.get(f"{self.url}/health", timeout=1).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        self.stop()
        log_tail = self.log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"victoria-metrics did not become healthy at {self.url}; log:\n{log_tail}")


@contextmanager
def own_victoria(data_dir: Path) -> Iterator[VictoriaServer]:
    """A VictoriaMetrics of the caller's own on a free loopback port (to stop, hang or inspect), stopped after."""
    binary = shutil.which("victoria-metrics")
    if binary is None:
        pytest.fail("victoria-metrics is not installed: run `make test`, which installs it", pytrace=False)
    server = VictoriaServer(binary, data_dir, free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def victoria(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VictoriaServer]:
    """One VictoriaMetrics for the session, with its data in a temporary directory."""
    with own_victoria(tmp_path_factory.mktemp("victoria")) as server:
        yield server


@pytest.fixture
def victoria_url(victoria: VictoriaServer, settings) -> str:
    """settings.VICTORIA_URL pointed at the session's VictoriaMetrics, emptied of all series."""
    victoria.start()  # an earlier test may have stopped it and failed before restarting
    victoria.delete_all()
    settings.VICTORIA_URL = victoria.url
    return victoria.url


@pytest.fixture(scope="session", autouse=True)
def session_spool_key() -> Iterator[str]:
    """A VictoriaMetrics spool key of this test session's own, deleted at its end: samples spooled while a run's
    VictoriaMetrics was unreachable must not be replayed into a later run's (Redis outlives test sessions)."""
    from django.conf import settings
    from django.test import override_settings

    key = f"wardflux:test:spool:{uuid.uuid4().hex}"
    with override_settings(VICTORIA_SPOOL_KEY=key):
        yield key
    delete_spool(settings.VICTORIA_SPOOL_URL, key)


def delete_spool(url: str, key: str) -> None:
    """Delete the spool list `key` and every key beside it (`key:bytes`, `key:dead`, `key:lock`...)."""
    connection = redis.Redis.from_url(url)
    connection.delete(key, *connection.scan_iter(match=f"{key}:*"))
    connection.close()


@pytest.fixture
def redis_spool(settings) -> Iterator[str]:
    """settings.VICTORIA_SPOOL_KEY set to a key of this test's own; it and its side keys are deleted afterwards."""
    url = settings.VICTORIA_SPOOL_URL
    connection = redis.Redis.from_url(url)
    try:
        connection.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {url} is not reachable: {exc}", pytrace=False)
    finally:
        connection.close()
    key = f"wardflux:test:spool:{uuid.uuid4().hex}"
    settings.VICTORIA_SPOOL_KEY = key
    yield key
    delete_spool(url, key)


class RedisServer:
    """A redis-server of the test's own on a loopback port, persisting (AOF) in `data_dir`: restart() keeps its
    data as a production Redis with `appendonly yes` does (never the machine's own Redis)."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir, self.port = data_dir, port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.data_dir),
             "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--maxmemory-policy", "noeviction"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if redis.Redis.from_url(self.url, socket_timeout=1).ping():
                    return
            except redis.RedisError:
                time.sleep(0.1)
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        if self._process is not None:
            stop_process(self._process)
            self._process = None

    def restart(self) -> None:
        self.stop()
        self.start()
