"""Pytest plugin: a real Zabbix 6.0 for the Zabbix bridge tests (`zabbix`, session-scoped, started on first use).

- Database: always the machine's PostgreSQL at 127.0.0.1:5432 (trust, user postgres), even when DATABASE_URL
  points at another server. A template database `wardflux_zabbix60` holds the Debian package's schema (built in
  ~8 s, kept between runs, rebuilt when missing or when the package version in its comment differs); a session
  runs on a fresh clone `wardflux_zabbix_test` (a second session on the machine waits for the first to end).
- Frontend: Debian's zabbix-frontend-php under `php -S`. It always reads /etc/zabbix/zabbix.conf.php: we write it
  (marked by FRONTEND_CONFIG_MARKER) to take the database from each `php -S`'s environment; a file of someone
  else's there skips the Zabbix tests. zabbix_server, on its own trapper port, raises real problems.
Both run in process groups of their own, stopped at session end and killed with pytest if it dies. Missing packages
are installed by scripts/lib.sh's `ensure_apt` (as in `make test`); the tests are skipped when that is impossible
(not root, no apt). The JSON-RPC client here is test scaffolding: the product uses zabbix-utils. Outside pytest
(bench/zabbix_sync.py): `prepare()`, then `with running(directory) as zabbix:`.
"""
from __future__ import annotations

import contextlib
import logging
import os
import random
import re
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from gzip import open as gzip_open
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import requests

from tests.process_groups import ProcessGroup
from tests.services import free_port
from tests.worker import wait_for

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
TEMPLATE_DB, TEST_DB = "wardflux_zabbix60", "wardflux_zabbix_test"
SCHEMA_FILES = [Path("/usr/share/zabbix-server-pgsql") / f"{name}.sql.gz" for name in ("schema", "images", "data")]
PG_LOCK, PG_LOCK_WAIT = 0x5A4258, "240s"  # one session at a time uses these databases; another waits that long
FRONTEND_ROOT = Path("/usr/share/zabbix")
FRONTEND_CONFIG = Path("/etc/zabbix/zabbix.conf.php")
FRONTEND_CONFIG_MARKER = "// Written by WARD FLUX's tests (tests/zabbix_server.py): settings come from WARDFLUX_ZBX_*."
FRONTEND_CONFIG_TEXT = f"""<?php
{FRONTEND_CONFIG_MARKER}
$DB['TYPE'] = 'POSTGRESQL';
$DB['SERVER'] = getenv('WARDFLUX_ZBX_DB_HOST') ?: '127.0.0.1';
$DB['PORT'] = getenv('WARDFLUX_ZBX_DB_PORT') ?: '5432';
$DB['DATABASE'] = getenv('WARDFLUX_ZBX_DB') ?: 'zabbix';
$DB['USER'] = getenv('WARDFLUX_ZBX_DB_USER') ?: 'zabbix';
$DB['PASSWORD'] = getenv('WARDFLUX_ZBX_DB_PASSWORD') ?: '';
$DB['DOUBLE_IEEE754'] = true;
$ZBX_SERVER = '127.0.0.1'; $ZBX_SERVER_PORT = getenv('WARDFLUX_ZBX_SERVER_PORT') ?: '10051';
"""
# Fewer processes than by default (recipes/zabbix_server_start.sh): starts in ~0.1 s. The configuration cache is
# reloaded when a test needs it (`Zabbix.send`, `raise_problem`): a full sync of the stock templates costs PostgreSQL
# about a second of CPU, and every second (CacheUpdateFrequency=1) it held 40 % of a core for the whole suite.
SERVER_CONFIG = {
    "AllowRoot": 1, "CacheUpdateFrequency": 3600, "StartPollers": 1, "StartPingers": 0, "StartTrappers": 2,
    "StartDiscoverers": 0, "StartHTTPPollers": 0, "StartPreprocessors": 1, "StartAlerters": 1, "StartLLDProcessors": 1,
    "StartHistoryPollers": 1, "StartDBSyncers": 1, "StartODBCPollers": 0, "LogFileSize": 0,
}


class ZabbixAPIError(RuntimeError):
    """A JSON-RPC error answer: `code`, `message` and `data` as Zabbix sent them."""

    def __init__(self, method: str, error: dict[str, Any]) -> None:
        self.code, self.message, self.data = error.get("code"), error.get("message", ""), error.get("data", "")
        super().__init__(f"{method}: {self.message} {self.data}".strip())


def _rpc(url: str, method: str, params: dict[str, Any] | list[Any] | None = None, auth: str | None = None) -> Any:
    """One JSON-RPC call, `auth` in the body as 6.0 wants it; raises ZabbixAPIError on an error answer."""
    body = {"jsonrpc": "2.0", "method": method, "params": {} if params is None else params, "id": 1}
    answer = requests.post(url, json=body | ({"auth": auth} if auth else {}), timeout=60).json()
    if "error" in answer:
        raise ZabbixAPIError(method, answer["error"])
    return answer["result"]


def _require_packages() -> None:
    """Install what is missing through scripts/lib.sh's ensure_apt; skip the tests when it cannot."""
    if os.geteuid() != 0:
        pytest.skip(f"the Zabbix tests need root (they write {FRONTEND_CONFIG}); run `make test` as root")
    done = subprocess.run(["bash", "-c", 'source "$0" && ensure_apt "${ZABBIX_APT[@]}"',
                           str(ROOT / "scripts" / "lib.sh")], capture_output=True, text=True, check=False)
    if done.returncode:
        why = re.sub(r"\x1b\[[0-9;]*m", "", done.stderr).strip()[-500:]  # without say()'s bold
        pytest.skip(f"Zabbix 6.0 packages missing and not installable: {why}")


def _write_frontend_config() -> None:
    """Write /etc/zabbix/zabbix.conf.php unless a file without our marker is there (then skip)."""
    if FRONTEND_CONFIG.exists():
        current = FRONTEND_CONFIG.read_text(errors="replace")
        if FRONTEND_CONFIG_MARKER not in current.splitlines()[:3]:
            pytest.skip(f"{FRONTEND_CONFIG} is someone else's (no line {FRONTEND_CONFIG_MARKER!r}): the Zabbix "
                        "tests will not overwrite it; move it away to run them")
    partial = FRONTEND_CONFIG.with_name(f".{FRONTEND_CONFIG.name}.{os.getpid()}")
    partial.write_text(FRONTEND_CONFIG_TEXT)
    partial.chmod(0o644)
    partial.replace(FRONTEND_CONFIG)  # atomic: a frontend of another session never reads half a file


@contextlib.contextmanager
def _postgres(dbname: str = "postgres") -> Iterator[Any]:
    """An autocommit cursor on the machine's PostgreSQL (not DATABASE_URL's: see the module docstring)."""
    try:
        connection = psycopg2.connect(**PG, dbname=dbname, connect_timeout=5)
    except psycopg2.OperationalError as exc:
        pytest.fail(f"the Zabbix tests need PostgreSQL on 127.0.0.1:5432 (trust, user postgres): {exc}", pytrace=False)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()


@contextlib.contextmanager
def databases() -> Iterator[dict[str, float]]:
    """For the session: (re)build the template database if needed and clone it as this session's, holding a lock
    that keeps other sessions from dropping that clone meanwhile; gives the seconds each step took."""
    timings = {}
    version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "zabbix-server-pgsql"], capture_output=True,
                             text=True, check=True).stdout
    stamp = f"Zabbix schema of zabbix-server-pgsql {version} (tests/zabbix_server.py)"
    with _postgres() as cursor:
        try:
            cursor.execute(f"SET lock_timeout = '{PG_LOCK_WAIT}'; SELECT pg_advisory_lock({PG_LOCK})")
        except psycopg2.errors.LockNotAvailable:
            pytest.fail(f"another test session has been using {TEST_DB} for over {PG_LOCK_WAIT}", pytrace=False)
        cursor.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                       (TEMPLATE_DB,))
        if (cursor.fetchone() or [None])[0] != stamp:
            started = time.monotonic()
            _build_template(cursor, stamp)
            timings["template_build"] = time.monotonic() - started
        started = time.monotonic()
        cursor.execute(f"DROP DATABASE IF EXISTS {TEST_DB} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {TEST_DB} TEMPLATE {TEMPLATE_DB}")
        timings["clone"] = time.monotonic() - started
        yield timings  # the lock goes with the connection


def _build_template(cursor: Any, stamp: str) -> None:
    """Load the package's schema into a new database, then put it in the template's place (never half built)."""
    building = f"{TEMPLATE_DB}_building"
    cursor.execute(f"DROP DATABASE IF EXISTS {building} WITH (FORCE)")
    cursor.execute(f"CREATE DATABASE {building} ENCODING 'UTF8' TEMPLATE template0")
    with _postgres(building) as load:
        for path in SCHEMA_FILES:  # one query per file: far faster than psql's statement by statement
            with gzip_open(path, "rt", encoding="utf-8") as sql:
                load.execute(sql.read())
    cursor.execute(f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)")
    cursor.execute(f"ALTER DATABASE {building} RENAME TO {TEMPLATE_DB}")
    cursor.execute(f"COMMENT ON DATABASE {TEMPLATE_DB} IS %s", (stamp,))


def _free_server_port() -> int:
    """A free loopback TCP port below 32768: zabbix_server refuses a ListenPort above 32767 (free_port's range)."""
    for port in random.sample(range(20000, 32768), 200):
        with socket.socket() as sock, contextlib.suppress(OSError):
            sock.bind(("127.0.0.1", port))
            return port
    raise RuntimeError("no free TCP port in 20000-32767")


class Frontend(ProcessGroup):
    """Debian's Zabbix frontend under PHP's built-in web server, on one port across stop()/start()."""

    def __init__(self, directory: Path, port: int, server_port: int) -> None:
        super().__init__("Zabbix frontend (php -S)", directory / "php.log")
        self.url = f"http://127.0.0.1:{port}"
        self._port, self._server_port = port, server_port

    def start(self) -> None:
        env = {**os.environ, "PHP_CLI_SERVER_WORKERS": "4", "WARDFLUX_ZBX_DB": TEST_DB,
               "WARDFLUX_ZBX_DB_HOST": PG["host"], "WARDFLUX_ZBX_DB_PORT": str(PG["port"]),
               "WARDFLUX_ZBX_DB_USER": PG["user"], "WARDFLUX_ZBX_SERVER_PORT": str(self._server_port)}
        options = ("memory_limit=256M", "post_max_size=16M", "max_execution_time=300", "max_input_time=300",
                   "date.timezone=UTC")
        self.launch(["php", *(f"-d{option}" for option in options), "-S", f"127.0.0.1:{self._port}",
                     "-t", str(FRONTEND_ROOT)], env=env, cwd=FRONTEND_ROOT)
        self.wait_until(self._answers, "answer apiinfo.version")

    def _answers(self) -> bool:
        with contextlib.suppress(requests.RequestException, ValueError):
            return bool(_rpc(f"{self.url}/api_jsonrpc.php", "apiinfo.version"))
        return False


class ServerProcess(ProcessGroup):
    """zabbix_server on 127.0.0.1:`port` against this session's database; files in `directory`."""

    def __init__(self, directory: Path, port: int) -> None:
        super().__init__("zabbix_server", directory / "zabbix_server.log")
        self.port, self.config = port, directory / "zabbix_server.conf"
        self.pid_file = directory / "zabbix_server.pid"
        settings = {**SERVER_CONFIG, "LogFile": directory / "zabbix_server.log", "PidFile": self.pid_file,
                    "SocketDir": directory, "DBHost": PG["host"], "DBPort": PG["port"], "DBUser": PG["user"],
                    "DBName": TEST_DB, "ListenIP": "127.0.0.1", "ListenPort": port}
        self.config.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))

    def start(self) -> None:
        self.launch(["zabbix_server", "--foreground", "--config", str(self.config)])
        self.wait_until(self._listening, f"listen on 127.0.0.1:{self.port}")

    def _listening(self) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def reload_config(self) -> None:
        """`zabbix_server -R config_cache_reload`: hosts and items made since the last sync become known."""
        subprocess.run(["zabbix_server", "--config", str(self.config), "-R", "config_cache_reload"],
                       capture_output=True, check=True, timeout=30)

    def stop(self, pid: int | None = None, timeout: float = 30) -> None:
        """SIGTERM the main process its pid file names (our leader: it runs in the foreground), which stops its ~30
        processes; then wait for all of them."""
        with contextlib.suppress(OSError, ValueError):
            pid = pid or int(self.pid_file.read_text())
        super().stop(pid if self._process and pid == self._process.pid else None, timeout)


@dataclass(frozen=True)
class Host:
    """What Zabbix.host() made; `host` is the technical name, the one zabbix_sender and trigger expressions use."""

    hostid: str
    host: str
    groupids: tuple[str, ...]


@dataclass(frozen=True)
class Trapper:
    """What Zabbix.trapper() made."""

    itemid: str
    triggerid: str
    key: str


@dataclass
class Zabbix:
    """The session's Zabbix: API, sender and helpers making groups, hosts and trapper items with triggers."""

    url: str  # the JSON-RPC endpoint (api_jsonrpc.php)
    frontend_url: str
    sender_port: int
    frontend: Frontend = field(repr=False)
    server: ServerProcess = field(repr=False)
    username: str = "Admin"
    password: str = "zabbix"
    api_token: str = ""
    timings: dict[str, float] = field(default_factory=dict)  # seconds: template_build, clone, frontend, server
    _session: str = field(default="", repr=False)

    def login(self) -> None:
        """Log in as Admin and make an API token for it."""
        self._session = self.call("user.login", {"username": self.username, "password": self.password})
        tokenid = self.call("token.create", {"name": self.unique("wardflux-tests"), "userid": "1"})  # 1: Admin
        self.api_token = self.call("token.generate", tokenid["tokenids"])[0]["token"]

    def call(self, method: str, params: dict[str, Any] | list[Any] | None = None, *, auth: str | None = None) -> Any:
        """One JSON-RPC call as the session's Admin (or with the session id or API token `auth`)."""
        anonymous = method in ("apiinfo.version", "user.login")  # 6.0 refuses auth on these
        return _rpc(self.url, method, params, None if anonymous else auth or self._session)

    def send(self, host: str, key: str, value: object, clock: float | None = None, timeout: float = 30) -> str:
        """Send one value with the real zabbix_sender until the server processes it (reloading its configuration
        cache while it does not know the host yet); returns the sender's output."""
        line = sender_line(host, key, value, clock)
        argv = ["zabbix_sender", "-z", "127.0.0.1", "-p", str(self.sender_port), "-i", "-",
                *([] if clock is None else ["-T"])]
        deadline = time.monotonic() + timeout
        while True:
            done = subprocess.run(argv, input=line, capture_output=True, text=True, timeout=30, check=False)
            if "processed: 1;" in done.stdout:
                return done.stdout
            if time.monotonic() > deadline:
                pytest.fail(f"zabbix_sender {line.strip()} not processed in {timeout:.0f} s: {done.stdout}"
                            f"{done.stderr}", pytrace=False)
            self.reload_config()
            time.sleep(0.3)

    def reload_config(self) -> None:
        self.server.reload_config()

    def wait_problem(self, hostid: str, present: bool = True, timeout: float = 60) -> list[dict[str, Any]]:
        """Wait until the host has an open problem (or, with present=False, none); returns its problems."""
        def problems() -> list[dict[str, Any]]:
            return self.call("problem.get", {"hostids": [hostid], "output": "extend"})

        if present:
            return wait_for(problems, timeout, f"a problem on host {hostid}")
        wait_for(lambda: not problems(), timeout, f"no problem on host {hostid}", seen=problems)
        return []

    def raise_problem(self, host: Host, key: str = "icmpping", value: object = 0, timeout: float = 60) -> list[dict]:
        """Send `value` until the host has a problem: a trigger created just before may reach the server's
        configuration cache after its item (the first value is then taken with no trigger to evaluate)."""
        deadline = time.monotonic() + timeout
        while True:
            self.send(host.host, key, value)
            try:
                return self.wait_problem(host.hostid, timeout=min(5.0, max(deadline - time.monotonic(), 0.5)))
            except pytest.fail.Exception:
                if time.monotonic() > deadline:
                    raise
                self.reload_config()

    def unique(self, stem: str) -> str:
        return f"{stem}-{uuid.uuid4().hex[:8]}"

    def group(self, name: str | None = None) -> str:
        """A new host group; returns its id."""
        return self.call("hostgroup.create", {"name": name or self.unique("wf-group")})["groupids"][0]

    def host(self, name: str | None = None, *, groupids: tuple[str, ...] = (), interface: str | None = "agent",
             ip: str = "127.0.0.1", port: int | None = None, snmp: dict[str, Any] | None = None,
             macros: dict[str, str] | None = None, **extra: Any) -> Host:
        """A new host (in a new group unless `groupids`) with an "agent" or "snmp" interface or none. `snmp` sets the
        SNMP details (default: v2c, community {$SNMP_COMMUNITY}; v3: securityname, securitylevel, authprotocol…)."""
        name = name or self.unique("wf-host")
        groupids = groupids or (self.group(f"{name} group"),)
        params: dict[str, Any] = {"host": name, "groups": [{"groupid": gid} for gid in groupids], **extra}
        if interface:
            params["interfaces"] = [_interface(interface, ip, port, snmp or {})]
        if macros:
            params["macros"] = [{"macro": macro, "value": value} for macro, value in macros.items()]
        return Host(self.call("host.create", params)["hostids"][0], name, tuple(groupids))

    def trapper(self, host: Host, key: str = "icmpping", *, expression: str = "last(/{host}/{key})=0",
                description: str = "{HOST.NAME} is unreachable", priority: int = 4, manual_close: bool = False,
                value_type: int = 3) -> Trapper:
        """A trapper item `key` (numeric unsigned by default) and a trigger on it (problem on 0 by default)."""
        itemid = self.call("item.create", {"hostid": host.hostid, "name": key, "key_": key, "type": 2,
                                           "value_type": value_type})["itemids"][0]
        triggerid = self.call("trigger.create", {
            "description": description, "priority": priority, "manual_close": int(manual_close),
            "expression": expression.format(host=host.host, key=key)})["triggerids"][0]
        return Trapper(itemid, triggerid, key)

    def stop_api(self) -> None:
        """Stop the frontend (the API stops answering, as when Zabbix goes away); zabbix_server keeps running."""
        self.frontend.stop()

    def start_api(self) -> None:
        """Start the frontend again on the same URL; the session and token stay valid."""
        self.frontend.start()


def sender_line(host: str, key: str, value: object, clock: float | None = None) -> str:
    """One line of a zabbix_sender input file (`-i`; with a clock, sent with `-T`), quoted as the sender reads it."""
    fields = [host, key, *([] if clock is None else [str(int(clock))]), str(value)]
    return " ".join('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"' for text in fields) + "\n"


def _interface(kind: str, ip: str, port: int | None, snmp: dict[str, Any]) -> dict[str, Any]:
    interface = {"type": {"agent": 1, "snmp": 2}[kind], "main": 1, "useip": 1, "ip": ip, "dns": "",
                 "port": str(port or {"agent": 10050, "snmp": 161}[kind])}
    if kind == "snmp":
        version = int(snmp.get("version", 2))
        details = {"version": version, "bulk": 1, **({"community": "{$SNMP_COMMUNITY}"} if version < 3 else {}),
                   **snmp}
        interface["details"] = {key: str(value) for key, value in details.items()}
    return interface


def prepare() -> None:
    """What running() needs first: the packages and the frontend's configuration file (pytest.skip when impossible)."""
    _require_packages()
    _write_frontend_config()


@contextlib.contextmanager
def running(directory: Path) -> Iterator[Zabbix]:
    """Zabbix 6.0 (frontend + zabbix_server on a fresh clone of the template database, files in `directory`), logged
    in, stopped on exit. Outside pytest too (bench/zabbix_sync.py): its failures are pytest.skip/fail outcomes."""
    server = ServerProcess(directory, _free_server_port())
    frontend = Frontend(directory, free_port(), server.port)
    with databases() as timings:
        try:
            for name, process in (("frontend", frontend), ("server", server)):
                started = time.monotonic()
                process.start()
                timings[name] = time.monotonic() - started
            zabbix = Zabbix(f"{frontend.url}/api_jsonrpc.php", frontend.url, server.port, frontend, server,
                            timings=timings)
            zabbix.login()
            log.info("Zabbix up: %s", ", ".join(f"{name} {seconds:.2f} s" for name, seconds in timings.items()))
            yield zabbix
        finally:
            frontend.stop()
            server.stop()


@pytest.fixture(scope="session")
def zabbix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zabbix]:
    """Zabbix 6.0 (frontend + zabbix_server on a fresh database) for the session; see the module docstring."""
    prepare()
    with running(tmp_path_factory.mktemp("zabbix")) as zabbix:
        yield zabbix


@pytest.fixture
def zabbix_prefix(request: pytest.FixtureRequest) -> str:
    """A name prefix of this test's own ("wf-<test>-<6 hex>-") for the hosts and groups it makes."""
    test = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)[:40]
    return f"wf-{test}-{uuid.uuid4().hex[:6]}-"
