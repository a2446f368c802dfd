"""Pytest plugin: a real net-snmp agent on loopback for the SNMP tests, and what the agents' tests share.

- `snmpd`: net-snmp's snmpd on a free 127.0.0.1 UDP port with its own configuration: a v1/v2c community and
  one SNMPv3 user per security level and auth/priv protocol pair (`SnmpdAgent.users`).
- net-snmp's tools (`NetSnmpTools`) and a parser of what they print; the agent process wrapper.
snmpsim (recordings of real devices) is in tests/snmpsim_agents.py. Agents run for the whole session and are
killed with it, also when pytest dies without its teardown.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from snmp.choices import AuthProtocol, PrivProtocol
from tests.services import die_with_parent, stop_process

LOOPBACK = "127.0.0.1"

# Every protocol a credential offers (snmp.choices), net-snmp spelling: one agent user per auth/priv pair.
AUTH_PROTOCOLS = tuple(protocol for protocol in AuthProtocol.values if protocol)
PRIV_PROTOCOLS = tuple(protocol for protocol in PrivProtocol.values if protocol)


# Value types in snmp.client's vocabulary (SNMPType), for what net-snmp prints and snmpsim recordings hold.
_NET_SNMP_TYPES = {
    "INTEGER": "integer", "Counter32": "counter32", "Counter64": "counter64", "Gauge32": "gauge32",
    "Timeticks": "timeticks", "Hex-STRING": "octets", "STRING": "octets", "OID": "oid", "IpAddress": "ipaddress",
    "Opaque": "opaque", "NULL": "null",
}
_NET_SNMP_MISSING = {
    "No Such Object available on this agent at this OID": ("nosuchobject", None),
    "No Such Instance currently exists at this OID": ("nosuchinstance", None),
}
_ENTRY = re.compile(r"^\.?(\d+(?:\.\d+)+) = (.*)$")


def parse_net_snmp(output: str) -> dict[str, tuple[str, int | bytes | str | None]]:
    """{oid: (type, value)} from what snmpget/snmpbulkwalk print with `-On -Oe -Ox` (hex strings may wrap)."""
    entries: dict[str, list[str]] = {}
    current = None
    for line in output.splitlines():
        match = _ENTRY.match(line)
        if match:
            current = entries.setdefault(match[1], [])
            current.append(match[2])
        elif current is not None:
            current.append(line)  # a Hex-STRING continues on the next lines
    return {oid: _net_snmp_value(" ".join(parts).strip()) for oid, parts in entries.items()
            if not parts[0].startswith("No more variables")}


def _net_snmp_value(text: str) -> tuple[str, int | bytes | str | None]:
    if text in _NET_SNMP_MISSING:
        return _NET_SNMP_MISSING[text]
    if text == '""':
        return "octets", b""
    type_name, _, value = text.partition(": ")
    kind = _NET_SNMP_TYPES[type_name]
    if type_name == "Hex-STRING":
        return kind, bytes.fromhex(value)
    if type_name == "STRING":
        return kind, value.strip('"').encode()
    if type_name == "Timeticks":
        return kind, int(value[1:value.index(")")])
    if kind == "oid":
        return kind, value.lstrip(".")
    if kind in ("ipaddress", "opaque", "null"):
        return kind, value or None
    return kind, int(value)


def free_udp_port() -> int:
    """A loopback UDP port nothing is bound to right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def _slug(protocol: str) -> str:
    return protocol.lower().replace("-", "")


@dataclass(frozen=True)
class V3User:
    """An SNMPv3 USM user configured in the test snmpd; protocols spelled as net-snmp spells them."""

    name: str
    auth_protocol: str = ""
    auth_key: str = ""
    priv_protocol: str = ""
    priv_key: str = ""

    @property
    def level(self) -> str:
        if self.priv_protocol:
            return "authPriv"
        return "authNoPriv" if self.auth_protocol else "noAuthNoPriv"

    def net_snmp_args(self) -> list[str]:
        """The command-line options that make snmpget & co. speak as this user."""
        args = ["-v3", "-l", self.level, "-u", self.name]
        if self.auth_protocol:
            args += ["-a", self.auth_protocol, "-A", self.auth_key]
        if self.priv_protocol:
            args += ["-x", self.priv_protocol, "-X", self.priv_key]
        return args


def _v3_users() -> tuple[V3User, ...]:
    users = [V3User("noauth")]
    for auth in AUTH_PROTOCOLS:
        name = f"{_slug(auth)}-nopriv"
        users.append(V3User(name, auth, f"auth-{name}"))
        for priv in PRIV_PROTOCOLS:
            name = f"{_slug(auth)}-{_slug(priv)}"
            users.append(V3User(name, auth, f"auth-{name}", priv, f"priv-{name}"))
    return tuple(users)


class _AgentProcess:
    """A child process that dies with pytest; its output goes to a log file."""

    def __init__(self, name: str, log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._process: subprocess.Popen | None = None

    def start(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                preexec_fn=die_with_parent,
            )

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        if self._process is None:
            return
        stop_process(self._process, timeout=10)
        self._process = None

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def fail(self, why: str) -> None:
        self.stop()
        pytest.fail(f"{self.name} {why}; log {self.log_path}:\n{self.log_tail()}", pytrace=False)


class NetSnmpTools:
    """net-snmp's command-line tools (snmpget, snmpbulkwalk…) isolated from /etc/snmp and /var/lib/snmp."""

    def __init__(self, home: Path, netns: str = "") -> None:
        self._inside = ["ip", "netns", "exec", netns] if netns else []  # run them in that namespace
        for tool in ("snmpget", "snmpbulkwalk"):
            if shutil.which(tool) is None:
                pytest.fail(f"{tool} is not installed: run `make test`, which installs it (Debian package snmp)",
                            pytrace=False)
        (home / "conf").mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "SNMPCONFPATH": str(home / "conf"), "SNMP_PERSISTENT_DIR": str(home / "persist")}

    def run(self, tool: str, *args: str, timeout: float = 30) -> str:
        """Run `tool -m "" ARGS` (no MIB files: numeric OIDs) and return its stdout; raise on failure."""
        done = subprocess.run([*self._inside, tool, "-m", "", *args], capture_output=True, text=True, env=self.env,
                              timeout=timeout, check=False)
        if done.returncode:
            raise RuntimeError(f"{tool} {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def answers(self, address: str, community: str) -> bool:
        try:
            self.run("snmpget", "-v2c", "-c", community, "-t", "0.3", "-r", "0", address, "1.3.6.1.2.1.1.5.0")
        except (RuntimeError, subprocess.TimeoutExpired):
            return False
        return True


class SnmpdAgent:
    """net-snmp snmpd on `host`:`port` (127.0.0.1, or an address inside the test namespace `netns`): community
    `community` (v1 and v2c) and the v3 `users`."""

    community = "public"
    sys_name = "wardflux-test-agent"
    sys_location = "Test lab, rack 1"
    sys_contact = "noc@example.test"
    max_message_size = 1000  # small enough that a GET of the whole system group is answered tooBig
    users: tuple[V3User, ...] = _v3_users()

    def __init__(self, binary: str, directory: Path, port: int, host: str = LOOPBACK, netns: str = "") -> None:
        self.host, self.port, self.netns = host, port, netns
        self.address = f"{self.host}:{port}"  # as net-snmp tools take it
        self.directory = directory
        self.tools = NetSnmpTools(directory / "tools", netns)
        self._process = _AgentProcess("snmpd", directory / "snmpd.log")
        self._binary = binary

    def user(self, auth_protocol: str = "", priv_protocol: str = "") -> V3User:
        """The configured user with exactly these protocols ("" = none)."""
        for user in self.users:
            if (user.auth_protocol, user.priv_protocol) == (auth_protocol, priv_protocol):
                return user
        raise LookupError(f"no test user with auth {auth_protocol!r} and priv {priv_protocol!r}")

    def net_snmp(self, tool: str, *args: str) -> str:
        return self.tools.run(tool, *args)

    def start(self) -> None:
        conf = self.directory / "snmpd.conf"
        conf.write_text(self._config())
        env = {**os.environ, "SNMPCONFPATH": str(self.directory),
               "SNMP_PERSISTENT_DIR": str(self.directory / "persist")}
        # -f foreground, -C read no default config files (only -c), -m "" load no MIB files (Debian ships none),
        # -I -smux,...: no SMUX (it would bind TCP 199) and no DISMAN event modules.
        inside = ["ip", "netns", "exec", self.netns] if self.netns else []
        self._process.start([*inside, self._binary, "-f", "-C", "-c", str(conf), "-m", "", "-Lf",
                             str(self._process.log_path), "-I", "-smux,mteTrigger,mteTriggerConf"], env=env)
        deadline = time.monotonic() + 15
        while not self.tools.answers(self.address, self.community):
            if not self._process.alive():
                self._process.fail("exited at start")
            if time.monotonic() > deadline:
                self._process.fail(f"did not answer on {self.address} within 15 s")
            time.sleep(0.05)
        # A user line this build cannot take (unknown protocol, short key) is only logged; the agent runs on.
        errors = [line for line in self._process.log_tail(100_000).splitlines() if "Error" in line]
        if errors:
            self._process.fail("rejected part of its configuration:\n" + "\n".join(errors))

    def stop(self) -> None:
        self._process.stop()

    def _config(self) -> str:
        lines = [
            f"[snmp] persistentDir {self.directory / 'persist'}",
            f"agentAddress udp:{self.address}",
            f"[snmp] sendMessageMaxSize {self.max_message_size}",
            f"rocommunity {self.community} {'default' if self.netns else self.host}",  # in a netns: from the veth
            f"sysName {self.sys_name}",
            f"sysLocation {self.sys_location}",
            f"sysContact {self.sys_contact}",
            "sysServices 72",
            "dontLogTCPWrappersConnects yes",
        ]
        for user in self.users:
            secrets = " ".join(
                f'{protocol} "{key}"'
                for protocol, key in ((user.auth_protocol, user.auth_key), (user.priv_protocol, user.priv_key))
                if protocol
            )
            level = {"noAuthNoPriv": "noauth", "authNoPriv": "auth", "authPriv": "priv"}[user.level]
            lines += [f"createUser {user.name} {secrets}".rstrip(), f"rouser {user.name} {level}"]
        return "\n".join(lines) + "\n"


def _snmpd_binary() -> str:
    binary = shutil.which("snmpd", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))
    if binary is None:
        pytest.fail("snmpd is not installed: run `make test`, which installs it (Debian package snmpd)", pytrace=False)
    return binary


def _running(agent: SnmpdAgent) -> Iterator[SnmpdAgent]:
    try:
        agent.start()
        yield agent
    finally:
        agent.stop()


@pytest.fixture(scope="session")
def snmpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnmpdAgent]:
    """A net-snmp snmpd for the session on a free loopback UDP port, configured from scratch."""
    yield from _running(SnmpdAgent(_snmpd_binary(), tmp_path_factory.mktemp("snmpd"), free_udp_port()))


@pytest.fixture
def netns_snmpd(netns, tmp_path: Path) -> Iterator[SnmpdAgent]:
    """snmpd inside the test namespace on port 161 of its third answering address, as a real device runs it."""
    address = netns.answering[2]
    netns.verify_route(address)
    yield from _running(SnmpdAgent(_snmpd_binary(), tmp_path / "snmpd", 161, host=address, netns=netns.name))
