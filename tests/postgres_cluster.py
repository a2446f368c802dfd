"""A PostgreSQL cluster of a test's own, from the Debian binaries, that the test may stop and start at will.

Never the machine's PostgreSQL: a fresh `initdb` in a temporary directory, a free loopback port and a socket in
that directory, run as the `postgres` user when the tests run as root (initdb refuses root), killed with the test
process if pytest dies. `load_from` copies a database of the machine's cluster (e.g. the migrated test database)
into it with pg_dump | psql, which is much faster than migrating.
"""
from __future__ import annotations

import ctypes
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.services import PR_SET_PDEATHSIG, free_port


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if not found:
        pytest.fail("PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/postgres)", pytrace=False)
    return Path(found[-1]).parent


def _as_owner(owner: pwd.struct_passwd | None) -> Callable[[], None]:
    """preexec_fn: become `owner` (when root), then die with the parent (set after the uid change, which resets
    it)."""
    def switch() -> None:
        if owner is not None:
            os.setgroups([])
            os.setgid(owner.pw_gid)
            os.setuid(owner.pw_uid)
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    return switch


class PostgresCluster:
    """initdb'd on creation; `start()`, `stop()` (fast shutdown: sessions are terminated), `url` for Django."""

    database = "wardflux"

    def __init__(self) -> None:
        self.bin = _binaries()
        self.owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        self.directory = Path(tempfile.mkdtemp(prefix="wardflux-pg-"))  # not pytest's tmp_path: root-only
        if self.owner is not None:
            os.chown(self.directory, self.owner.pw_uid, self.owner.pw_gid)
        self.data, self.log = self.directory / "data", self.directory / "postgres.log"
        self.port = free_port()
        self._process: subprocess.Popen | None = None
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale",
                  "--no-sync")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.database}"

    def start(self, timeout: float = 30) -> None:
        """Start the server and wait until it accepts connections."""
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.directory),
                 "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off",
                 "-c", "synchronous_commit=off"],
                stdout=log, stderr=subprocess.STDOUT, preexec_fn=_as_owner(self.owner))
        deadline = time.monotonic() + timeout
        while not self.ready():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"postgres did not start; log:\n{self.log.read_text()[-2000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        """Fast shutdown (SIGINT): open sessions are terminated, as a database restart or failover does."""
        if self._process is None:
            return
        self._process.send_signal(signal.SIGINT)
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def ready(self) -> bool:
        done = subprocess.run([str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-t", "1"],
                              capture_output=True)
        return done.returncode == 0

    def load_from(self, source_url: str) -> None:
        """Create the database and fill it with a copy of the database at `source_url` (schema and rows)."""
        self.psql("postgres", f"CREATE DATABASE {self.database}")
        dump = subprocess.run([str(self.bin / "pg_dump"), "--no-owner", "--no-privileges", source_url],
                              capture_output=True, check=True, timeout=120).stdout
        subprocess.run([str(self.bin / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-d", self._dsn(self.database)],
                       input=dump, capture_output=True, check=True, timeout=120)

    def psql(self, database: str, sql: str) -> str:
        """Run `sql` in `database`; its output, tuples only."""
        return subprocess.run([str(self.bin / "psql"), "-tA", "-v", "ON_ERROR_STOP=1", "-d", self._dsn(database),
                               "-c", sql], capture_output=True, check=True, text=True, timeout=60).stdout.strip()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _dsn(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([str(self.bin / tool), *args], cwd=self.directory, capture_output=True, check=True,
                       timeout=120, preexec_fn=_as_owner(self.owner))
