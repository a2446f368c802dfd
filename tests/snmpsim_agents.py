"""Pytest plugin: snmpsim-command-responder serving snmpsim-data recordings of real devices
(`SnmpsimAgent.communities`, community = recording basename), plus our own recordings in tests/data
(`wardflux-counters`: counters and sysUpTime a test sets with `SnmpsimAgent.set`); snmpsim and snmpsim-data come
from requirements.txt. It runs for the whole session and is killed with it.
"""
from __future__ import annotations

import asyncio
import bz2
import fcntl
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import pytest
from pysnmp.proto import rfc1902

from tests.snmp_agents import LOOPBACK, NetSnmpTools, V3User, _AgentProcess, free_udp_port

SNMPSIM_RECORDINGS = (  # paths under snmpsim_data/data, without the .snmprec[.bz2] extension
    "network/switch/cisco-c3560",
    "network/router/juniper-mx960-12-3r6-6",
    "cloud/arista-dcs-7150s-52-cl",
    "network/router/huawei-s5720",
    "os/linux/unknown-006",
    "os/windows/XP",
)

_SNMPREC_TYPES = {
    "2": "integer", "4": "octets", "5": "null", "6": "oid", "64": "ipaddress", "65": "counter32", "66": "gauge32",
    "67": "timeticks", "68": "opaque", "70": "counter64",
}


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


@dataclass
class _Launch:
    """An agent launched, and the wait for its index (the store stays locked until then)."""

    agent: SnmpsimAgent
    lock: TextIO
    failure: list[BaseException] = field(default_factory=list)
    waiting: threading.Thread | None = None

    def wait_then_unlock(self) -> None:
        try:
            self.agent.wait_ready()
        except BaseException as exc:  # noqa: BLE001  pytest.fail's outcome too: raised in the fixture
            self.failure.append(exc)
        finally:
            self.lock.close()

    def ready(self) -> SnmpsimAgent:
        if self.waiting is None:
            self.wait_then_unlock()
        else:
            self.waiting.join()
        if self.failure:
            raise self.failure[0]
        return self.agent


_early: list[_Launch] = []  # the agent launched as the session began


def pytest_collection_finish(session: pytest.Session) -> None:
    """Launch snmpsim as soon as the collected tests are known to need it: its indexing (one to two minutes on a
    fresh checkout) then runs beside the tests that come before the first one using it, not in front of it."""
    if any("snmpsim" in getattr(item, "fixturenames", ()) for item in session.items):
        launch = _launch(Path(tempfile.mkdtemp(prefix="wardflux-snmpsim-")))
        launch.waiting = threading.Thread(target=launch.wait_then_unlock, name="snmpsim-index", daemon=True)
        launch.waiting.start()
        _early.append(launch)


def pytest_sessionfinish(session: pytest.Session) -> None:
    for launch in _early:  # launched, but no test asked for it (a run stopped early)
        launch.agent.stop()
        shutil.rmtree(launch.agent.directory, ignore_errors=True)


def _launch(directory: Path) -> _Launch:
    """An agent serving the store's recordings, launched; the store is locked until it has indexed them."""
    store = SNMPSIM_STORE
    (store / "data").mkdir(parents=True, exist_ok=True)
    lock = open(store.parent / "snmpsim.lock", "w")  # noqa: SIM115  closed once the agent has indexed
    fcntl.flock(lock, fcntl.LOCK_EX)
    agent = SnmpsimAgent(directory, free_udp_port(), _served_recordings(store / "data"), store)
    agent.launch()
    return _Launch(agent, lock)


@pytest.fixture(scope="session")
def snmpsim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnmpsimAgent]:
    """snmpsim for the session on a free loopback UDP port, serving SNMPSIM_RECORDINGS and the templates' ones.

    The recordings and snmpsim's indexes of them stay under var/test/snmpsim between runs: indexing 2 million
    recorded OIDs takes over a minute, so only a first run (or a changed recording) pays for it, and it starts as
    the session begins (pytest_collection_finish). A lock keeps two test sessions from preparing the directory at
    once.
    """
    agent = (_early.pop() if _early else _launch(tmp_path_factory.mktemp("snmpsim"))).ready()
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
