"""The web app served inside a network namespace that has nothing but its own loopback, for the API fuzz.

Inside the namespace (tests/netns.py isolated_namespace): a Redis and a VictoriaMetrics of its own, and gunicorn as
`make run` starts it; PostgreSQL is reached through its Unix socket (a file, not the network), in a database of
the server's own, migrated and seeded (tests/fuzz_seed.py). No Celery worker or beat runs: tasks the API queues
stay in the namespace's Redis and go when it goes. Whatever address a fuzzed request invents, a packet to it
finds no route: the kernel refuses it (counted as OutNoRoutes) and nothing leaves the machine.
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
from django.conf import settings

from tests.netns import run_in_namespace
from tests.services import die_with_parent, stop_process
from tests.worker import wait_for

ROOT = Path(__file__).resolve().parent.parent
PORT = 8000
ADMIN = "fuzz-admin"
ACCESS_LOG_FORMAT = "%(s)s %(m)s %(U)s"  # status, method, path: one line per request the server answered


@dataclass
class SealedApi:
    """The app, its Redis and VictoriaMetrics in `namespace`, on a database of its own; see the module docstring."""

    namespace: str
    workdir: Path
    database: str = field(init=False)
    token: str = ""
    _processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.database = f"{settings.DATABASES['default']['NAME']}_fuzz"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{PORT}"

    @property
    def access_log(self) -> Path:
        return self.workdir / "access.log"

    def environment(self) -> dict[str, str]:
        """The server's whole environment: nothing inherited but PATH, HOME and the test run's keys."""
        return {
            "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8",
            "SECRET_KEY": os.environ["SECRET_KEY"], "FERNET_KEYS": os.environ["FERNET_KEYS"],
            "DATABASE_URL": f"postgres://{_db_user()}@{_socket_dir().replace('/', '%2F')}/{self.database}",
            "DATABASE_CONN_MAX_AGE": "0",
            "REDIS_URL": "redis://127.0.0.1:6379/0", "VICTORIA_URL": "http://127.0.0.1:8428",
            "WARDFLUX_VAR_DIR": str(self.workdir / "var"), "ALLOWED_HOSTS": "127.0.0.1", "HTTPS_ONLY": "0",
            # the fuzz is one user sending thousands of requests: throttling would answer most of them with 429
            **{f"API_THROTTLE_{scope}": "off" for scope in ("ANON", "USER", "LOGIN", "SCAN", "POLL")},
        }

    def command(self, *argv: str) -> list[str]:
        """`argv` run inside the namespace with the server's environment (and nothing else)."""
        env = [f"{k}={v}" for k, v in self.environment().items()]
        return ["ip", "netns", "exec", self.namespace, "env", "-i", *env, *argv]

    def manage(self, *args: str, timeout: float = 120) -> str:
        """`manage.py ARGS` as the server would run it; its standard output. Fails the test with its error."""
        done = subprocess.run(self.command(str(ROOT / ".venv/bin/python"), "manage.py", *args), cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode:
            raise AssertionError(f"manage.py {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")
        return done.stdout

    def start(self) -> None:
        """Database, Redis, VictoriaMetrics, migrations, seed data, the admin's token, then gunicorn."""
        _admin_sql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)', f'CREATE DATABASE "{self.database}"')
        self._spawn("redis", "redis-server", "--bind", "127.0.0.1", "--port", "6379", "--save", "",
                    "--appendonly", "no", "--dir", str(self.workdir))
        # 13 months: at least HISTORY_DAYS, or migrate refuses to start (wardsite/service_checks.py)
        self._spawn("victoria", "victoria-metrics", "-httpListenAddr=127.0.0.1:8428",
                    f"-storageDataPath={self.workdir / 'victoria'}", "-retentionPeriod=13", "-loggerLevel=WARN")
        self.manage("migrate", "--no-input", "-v", "0")
        self.manage("shell", "--no-imports", "-c", f"from tests.fuzz_seed import seed; seed({ADMIN!r})")
        self.token = api_token(self.manage, ADMIN)
        self._spawn("web", str(ROOT / ".venv/bin/gunicorn"), "wardsite.wsgi", "-b", f"127.0.0.1:{PORT}",
                    "--workers", "2", "--threads", "4", "--timeout", "30", "--access-logfile", str(self.access_log),
                    "--access-logformat", ACCESS_LOG_FORMAT)
        wait_for(lambda: all(map(self.port_open, (6379, 8428, PORT))) or self._exited(), 60,
                 "Redis, VictoriaMetrics and gunicorn to listen in the namespace")
        assert not self._exited(), f"a server process exited: {self._exited()}"

    def stop(self) -> None:
        for proc in reversed(self._processes.values()):
            stop_process(proc)
        self._processes.clear()
        _admin_sql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def port_open(self, port: int) -> bool:
        def probe() -> bool:
            with socket.socket() as sock:
                return sock.connect_ex(("127.0.0.1", port)) == 0
        return bool(run_in_namespace(self.namespace, probe))

    def answered(self) -> list[tuple[int, str, str]]:
        """(status, method, path) of every request the server answered, from its access log."""
        rows = re.findall(r"^(\d{3}) (\S+) (.*)$", self.access_log.read_text(), re.M)  # a path may hold a newline
        return [(int(status), method, path) for status, method, path in rows]

    def _spawn(self, name: str, *argv: str) -> None:
        with (self.workdir / f"{name}.log").open("wb") as log:
            self._processes[name] = subprocess.Popen(self.command(*argv), cwd=ROOT, stdout=log,
                                                     stderr=subprocess.STDOUT, preexec_fn=die_with_parent)

    def _exited(self) -> str:
        """The logs of the processes that have exited ('' while all run)."""
        return "\n".join(f"{name}: {(self.workdir / f'{name}.log').read_text()[-2000:]}"
                         for name, proc in self._processes.items() if proc.poll() is not None)


def api_token(manage: Callable[..., str], username: str) -> str:
    """A new API token of `username` (the one place that knows how tokens are made)."""
    return manage("create_api_token", username).strip()


# --- what the namespace holds and sent --------------------------------------------------------------------------

def interfaces(namespace: str) -> dict[str, dict]:
    """Every interface in the namespace by name, with its counters (`ip -s -j link`)."""
    links = json.loads(subprocess.run(["ip", "-n", namespace, "-s", "-j", "link", "show"], capture_output=True,
                                      text=True, check=True).stdout)
    return {link["ifname"]: link.get("stats64", {}) for link in links}


def routes(namespace: str) -> list[str]:
    """Every IPv4 and IPv6 route of every table in the namespace."""
    return [line for family in ("-4", "-6") for line in subprocess.run(
        ["ip", "-n", namespace, family, "-o", "route", "show", "table", "all"], capture_output=True, text=True,
        check=True).stdout.splitlines()]


def ip_counters(namespace: str) -> dict[str, int]:
    """The namespace's IP counters (/proc/net/snmp and snmp6 as seen inside), e.g. Ip:OutNoRoutes, Ip6OutNoRoutes."""
    text = subprocess.run(["ip", "netns", "exec", namespace, "cat", "/proc/net/snmp", "/proc/net/snmp6"],
                          capture_output=True, text=True, check=True).stdout
    counters = {m[1]: int(m[2]) for m in re.finditer(r"^(Ip6\w+)\s+(\d+)$", text, re.M)}
    pairs = [line.split() for line in text.splitlines() if re.match(r"^[A-Za-z]+: ", line)]
    for names, values in zip(pairs[::2], pairs[1::2]):  # "Ip: Forwarding ... OutNoRoutes ..." then "Ip: 1 ..."
        counters.update({f"{names[0]}{name}": int(value) for name, value in zip(names[1:], values[1:])})
    return counters


# --- PostgreSQL through its socket -----------------------------------------------------------------------------

def _db_user() -> str:
    return settings.DATABASES["default"]["USER"] or "postgres"


def _connect(dbname: str = "postgres"):
    db = settings.DATABASES["default"]
    return psycopg2.connect(dbname=dbname, user=_db_user(), password=db["PASSWORD"] or None,
                            host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432)


def _socket_dir() -> str:
    """Where this PostgreSQL listens on a Unix socket ('' if it does not, or the socket is not on this machine)."""
    with _connect() as conn, conn.cursor() as cursor:
        cursor.execute("SHOW unix_socket_directories")
        port = settings.DATABASES["default"]["PORT"] or 5432
        dirs = [d.strip() for d in cursor.fetchone()[0].split(",") if d.strip()]
    conn.close()
    return next((d for d in dirs if Path(d, f".s.PGSQL.{port}").exists()), "")


def database_reachable_inside() -> str:
    """Why the sealed server cannot reach PostgreSQL ('' when it can: a local server with a Unix socket)."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return "the API fuzz needs PostgreSQL (DATABASE_URL=postgres://...)"
    return "" if _socket_dir() else "PostgreSQL has no Unix socket on this machine for the sealed server to use"


def _admin_sql(*statements: str) -> None:
    conn = _connect()
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        conn.close()
