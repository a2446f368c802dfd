"""A daemon run by the tests in a process group of its own (tests/zabbix_server.py: zabbix_server, php -S), with
everything it forks stopped together, also when pytest dies without its teardown."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest

from tests.services import die_with_parent

_WATCHDOG = "import os, signal, sys; sys.stdin.buffer.read(); os.killpg(int(sys.argv[1]), signal.SIGKILL)"


class ProcessGroup:
    """A daemon in a process group of its own with all it forks. Should pytest die without its teardown, the kernel
    kills the leader (die_with_parent) and a watchdog (_WATCHDOG), seeing its pipe from pytest close, the rest."""

    def __init__(self, name: str, log_path: Path) -> None:
        self.name, self.log_path = name, log_path
        self._process: subprocess.Popen | None = None
        self._watchdog: subprocess.Popen | None = None

    def launch(self, argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
        with self.log_path.open("ab") as out:
            self._process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                             env=env, cwd=cwd, start_new_session=True, preexec_fn=die_with_parent)
        self._watchdog = subprocess.Popen([sys.executable, "-c", _WATCHDOG, str(self._process.pid)],
                                          stdin=subprocess.PIPE, start_new_session=True)

    def stop(self, pid: int | None = None, timeout: float = 20) -> None:
        """SIGTERM `pid` (the whole group by default), wait for the group to be gone, SIGKILL it after `timeout`."""
        if self._process is None:
            return
        self._watchdog.kill()  # before it reads EOF on its pipe: it must not kill a group id reused later
        self._watchdog.wait()
        group, deadline = self._process.pid, time.monotonic() + timeout
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM) if pid else os.killpg(group, signal.SIGTERM)
        while time.monotonic() < deadline and (self._process.poll() is None or _group_alive(group)):
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        self._process.wait()
        while _group_alive(group):
            time.sleep(0.05)
        self._process = None

    def fail(self, why: str) -> NoReturn:
        self.stop()
        tail = self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""
        pytest.fail(f"{self.name} {why}; log {self.log_path}:\n{tail}", pytrace=False)

    def wait_until(self, ready: Callable[[], bool], what: str, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while not ready():
            if self._process.poll() is not None:
                self.fail("exited at start")
            if time.monotonic() > deadline:
                self.fail(f"did not {what} within {seconds:.0f} s")
            time.sleep(0.05)


def _group_alive(group: int) -> bool:
    """Whether a process of the group still runs (not counting zombies: init may take a second to reap them)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError):
            state, _, pgrp = stat.read_text().rpartition(")")[2].split()[:3]  # "pid (comm) state ppid pgrp ..."
            if int(pgrp) == group and state != "Z":
                return True
    return False
