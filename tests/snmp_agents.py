"""Pytest plugin: real SNMP agents on loopback for the SNMP tests.

- `snmpd`: net-snmp's snmpd on a free 127.0.0.1 UDP port with its own configuration: a v1/v2c community and
  one SNMPv3 user per security level and auth/priv protocol pair (`SnmpdAgent.users`).
- `snmpsim`: snmpsim-command-responder serving snmpsim-data recordings of real devices (`SnmpsimAgent.communities`,
  community = recording basename), plus our own recordings in tests/data (`wardflux-counters`: counters and
  sysUpTime a test sets with `SnmpsimAgent.set`); snmpsim and snmpsim-data come from requirements.txt.
Both run for the whole session and are killed with it, also when pytest dies without its teardown.
"""
from __future__ import annotations

import asyncio
import bz2
import fcntl
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pysnmp.proto import rfc1902

from snmp.choices import AuthProtocol, PrivProtocol
from tests.services import die_with_parent

LOOPBACK = "127.0.0.1"

# Every protocol a credential offers (snmp.choices), net-snmp spelling: one agent user per auth/priv pair.
AUTH_PROTOCOLS = tuple(protocol for protocol in AuthProtocol.values if protocol)
PRIV_PROTOCOLS = tuple(protocol for protocol in PrivProtocol.values if protocol)

SNMPSIM_RECORDINGS = (  # paths under snmpsim_data/data, without the .snmprec[.bz2] extension
    "network/switch/cisco-c3560",
    "network/router/juniper-mx960-12-3r6-6",
    "cloud/arista-dcs-7150s-52-cl",
    "network/router/huawei-s5720",
    "os/linux/unknown-006",
    "os/windows/XP",
)


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
_SNMPREC_TYPES = {
    "2": "integer", "4": "octets", "5": "null", "6": "oid", "64": "ipaddress", "65": "counter32", "66": "gauge32",
    "67": "timeticks", "68": "opaque", "70": "counter64",
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
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
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


class SnmpsimAgent:
    """snmpsim on `host`:`port` (127.0.0.1, or an address inside the test namespace `netns`, and on the same port
    of the `aliases` too: one agent, one engine, several addresses); each recording answers to its basename as
    v1/v2c community (or v3 context)."""

    v3_user = V3User("simulator", "SHA", "auctoritas", "AES", "privatus")  # snmpsim's defaults, passed explicitly

    def __init__(self, directory: Path, port: int, recordings: dict[str, Path], store: Path, host: str = LOOPBACK,
                 netns: str = "", aliases: tuple[str, ...] = ()) -> None:
        self.host, self.port, self.netns, self.aliases = host, port, netns, aliases
        self.store = store  # data/ (the recordings served) and cache/ (snmpsim's indexes of them)
        self.address = f"{self.host}:{port}"
        self.communities = tuple(recordings)
        self.recordings = recordings  # community -> recording file served
        self.directory = directory
        self.tools = NetSnmpTools(directory / "tools", netns)
        self._process = _AgentProcess("snmpsim", directory / "snmpsim.log")

    def net_snmp(self, tool: str, *args: str) -> str:
        return self.tools.run(tool, *args)

    def recorded(self, community: str, subtree: str) -> dict[str, tuple[str, int | bytes | str | None]]:
        """{oid: (type, value)} under `subtree` as the recording file holds it (what the agent must serve)."""
        path = self.recordings[community]
        opener = bz2.open if path.suffix == ".bz2" else open
        prefix = subtree + "."
        found = {}
        with opener(path, "rt", encoding="latin-1") as lines:
            for line in lines:
                if line.startswith("#") or not line.strip():
                    continue
                oid, tag, value = line.rstrip("\n").split("|", 2)
                if oid.startswith(prefix):
                    found[oid] = _snmprec_value(tag, value)
        return found

    def set(self, community: str, values: dict[str, rfc1902.Integer32 | rfc1902.Counter32 | rfc1902.Counter64
                                              | rfc1902.TimeTicks]) -> None:
        """SNMP SET of typed values (writecache records only), e.g. {"1.3.6.1.2.1.1.3.0": TimeTicks(100)}."""
        from pysnmp.hlapi.v3arch.asyncio import (
            CommunityData, ContextData, ObjectIdentity, ObjectType, SnmpEngine, UdpTransportTarget, set_cmd)

        async def send() -> None:
            engine = SnmpEngine()
            try:
                transport = await UdpTransportTarget.create((self.host, self.port), timeout=5, retries=1)
                error, status, index, _ = await set_cmd(
                    engine, CommunityData(community), transport, ContextData(),
                    *(ObjectType(ObjectIdentity(oid), value) for oid, value in values.items()))
            finally:
                engine.close_dispatcher()
            if error or status:
                raise RuntimeError(f"SET on {community}@{self.address} failed: {error or status} at {index}")

        asyncio.run(send())

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the process without waiting for it (several agents can index at once; then wait_ready each)."""
        data, cache = self.store / "data", self.store / "cache"
        cache.mkdir(exist_ok=True)
        user = self.v3_user
        env = {**os.environ, "SNMPSIM_ALLOW_ROOT": "true"}  # as root it would otherwise insist on dropping to nobody
        inside = ["ip", "netns", "exec", self.netns] if self.netns else []
        endpoints = [f"--agent-udpv4-endpoint={host}:{self.port}" for host in (self.host, *self.aliases)]
        self._process.start([
            *inside, sys.executable, "-c", _SNMPSIM_RESPONDER, f"--data-dir={data}", f"--cache-dir={cache}", *endpoints,
            f"--v3-user={user.name}", f"--v3-auth-key={user.auth_key}", f"--v3-auth-proto={user.auth_protocol}",
            f"--v3-priv-key={user.priv_key}", f"--v3-priv-proto={user.priv_protocol}",
            "--logging-method=stderr", "--log-level=error",
        ], env=env)

    def wait_ready(self) -> None:
        """Return once every community answers on every address; fail the test if the agent dies or lingers."""
        # It indexes every recording before it answers: on a fresh checkout (no var/test/snmpsim/cache yet) that took
        # 80 s on one day and over 120 s on another on this 2-core machine kind; later runs reuse the index.
        deadline = time.monotonic() + READY_SECONDS
        pending = [(f"{host}:{self.port}", community) for host in (self.host, *self.aliases)
                   for community in self.communities]
        while pending:
            if self.tools.answers(*pending[0]):
                pending.pop(0)
                continue
            if not self._process.alive():
                self._process.fail("exited at start")
            if time.monotonic() > deadline:
                address, community = pending[0]
                self._process.fail(f"did not answer for community {community!r} on {address} within "
                                   f"{READY_SECONDS} s")
            time.sleep(0.2)

    def stop(self) -> None:
        self._process.stop()


def _snmprec_value(tag: str, text: str) -> tuple[str, int | bytes | str | None]:
    kind = _SNMPREC_TYPES[tag.removesuffix("x")]
    raw = bytes.fromhex(text) if tag.endswith("x") else text.encode("latin-1")
    if kind in ("octets", "opaque"):
        return kind, raw
    if kind == "ipaddress":
        return kind, socket.inet_ntoa(raw) if tag.endswith("x") else text
    if kind == "oid":
        return kind, text
    if kind == "null":
        return kind, None
    return kind, int(text)


OWN_RECORDINGS = Path(__file__).parent / "data"
# snmpsim-command-responder, keeping every recording open: by default it closes the oldest opened after 31, and
# reopening a large recording's index costs seconds (longer than a poll's timeout).
_SNMPSIM_RESPONDER = """
import sys
from snmpsim.datafile import DataFile
from snmpsim.commands.responder import main
DataFile.max_queue_entries = 1000
sys.argv[0] = "snmpsim-command-responder"
sys.exit(main())
"""
SNMPSIM_STORE = Path(__file__).resolve().parents[1] / "var" / "test" / "snmpsim"
READY_SECONDS = 280  # within the suite's 300 s per test (pytest.ini), which counts this session fixture's setup


def _recording_files() -> dict[str, Path]:
    """community (basename) -> recording file: the chosen ones of the installed snmpsim-data, and our own."""
    import snmpsim_data

    from templates_app.tests.recordings import VERIFIED_BY  # the recordings the default templates are tested on

    data = Path(snmpsim_data.__file__).parent / "data"

    files = {path.name.removesuffix(".snmprec"): path for path in OWN_RECORDINGS.glob("*.snmprec")}
    wanted = dict.fromkeys([*SNMPSIM_RECORDINGS, *(r for recordings in VERIFIED_BY.values() for r in recordings)])
    for recording in wanted:
        if Path(recording).name in files:
            pytest.fail(f"two recordings named {Path(recording).name}: snmpsim would serve one", pytrace=False)
        matches = sorted(data.glob(f"{recording}.snmprec*"))
        if not matches:
            pytest.fail(f"snmpsim-data has no recording {recording} under {data}", pytrace=False)
        files[Path(recording).name] = matches[0]
    return files


@pytest.fixture(scope="session")
def snmpsim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnmpsimAgent]:
    """snmpsim for the session on a free loopback UDP port, serving SNMPSIM_RECORDINGS and the templates' ones.

    The recordings and snmpsim's indexes of them stay under var/test/snmpsim between runs: indexing 2 million
    recorded OIDs takes over a minute, so only a first run (or a changed recording) pays for it. A lock keeps two
    test sessions from preparing the directory at once.
    """
    store = SNMPSIM_STORE
    (store / "data").mkdir(parents=True, exist_ok=True)
    with open(store.parent / "snmpsim.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        recordings = _served_recordings(store / "data")
        agent = SnmpsimAgent(tmp_path_factory.mktemp("snmpsim"), free_udp_port(), recordings, store)
        agent.start()  # returns once all are indexed
    try:
        yield agent
    finally:
        agent.stop()


def _served_recordings(data: Path) -> dict[str, Path]:
    """Put the recordings in `data` as snmpsim must see them; community -> file served."""
    served = {}
    for community, source in _recording_files().items():
        served[community] = serve_recording(source, data / f"{community}.snmprec")
    for stale in set(data.iterdir()) - set(served.values()):
        stale.unlink()
    return served


def serve_recording(source: Path, target: Path) -> Path:
    """Put the recording `source` at `target` (a .snmprec path: snmpsim answers to its basename) unless it is
    there already, up to date; returns `target`."""
    if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
        return target
    # Copied, not linked (snmpsim would name the community after a link's target), and decompressed: snmpsim
    # seeks in a .bz2 by decompressing from its start, seconds per request on the large recordings.
    partial = target.with_suffix(".partial")
    with (bz2.open if source.suffix == ".bz2" else open)(source, "rb") as recording, open(partial, "wb") as copy:
        shutil.copyfileobj(recording, copy)
    partial.replace(target)
    return target
