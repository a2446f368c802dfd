"""Pytest plugin: a discovery lab, a /24 of a private namespace with devices of several vendors in it.

Layout (TestNetwork "203.0.113", TEST-NET-3, namespace wf-test-<pid>-lab; the session's `netns` keeps 198.51.100):
  .1        our end of the veth: the monitor itself (answers locally; a scan excludes it)
  .10-.13   one snmpsim agent each, serving a snmpsim-data recording of a real device (LAB_DEVICES) on port 161,
            community LAB_COMMUNITY
  .14       a second address of the .11 agent: the same process, so the same device (engineID, serial)
  .15-.19   answer ICMP only
  .30       drops ICMP (nft) but accepts TCP on port 443
  .31-.39   drop ICMP, nothing listens
  the rest  silent: nobody has the address (ARP fails)
`DiscoveryLab.layout` says what each address is; tests read their expectations from it. Each agent serves its
recording from its own directory under var/test/snmpsim-lab (as public.snmprec: snmpsim answers to a file's
basename), kept with snmpsim's index of it between runs, so only a first run pays for indexing.
"""
from __future__ import annotations

import fcntl
import os
import selectors
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from tests.netns import NetnsUnavailable, TestNetwork, remove_stale_namespaces
from tests.snmpsim_agents import SNMPSIM_STORE, SnmpsimAgent, serve_recording

LAB_PREFIX = "203.0.113"
LAB_COMMUNITY = "public"
LAB_STORE = SNMPSIM_STORE.parent / "snmpsim-lab"
TCP_PORTS = (443,)  # what the ICMP-dropping host .30 accepts


@dataclass(frozen=True)
class LabDevice:
    """An SNMP agent of the lab and what discovery must make of it, written from the recording's sysDescr."""

    recording: str  # path under snmpsim_data/data, without the .snmprec[.bz2] extension
    vendor: str
    device_type: str
    template: str  # key of the default template auto-selection picks (templates_app/tests/recordings.py)
    address: str = ""
    aliases: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return Path(self.recording).name


LAB_DEVICES = (
    # "Cisco IOS Software, C3560 Software (C3560-IPSERVICESK9-M), Version 12.2(55)SE3": a Catalyst switch
    LabDevice("network/switch/cisco-c3560", "Cisco", "switch", "cisco-ios"),
    # "Juniper Networks, Inc. mx960 internet router, kernel JUNOS 12.3R6.6": answers on two addresses
    LabDevice("network/router/juniper-mx960-12-3r6-6", "Juniper", "router", "juniper-junos"),
    # "Palo Alto Networks PA-5000 series firewall"
    LabDevice("network/firewall/paloalto-pa-5000", "Palo Alto Networks", "firewall", "paloalto-panos"),
    # "Linux DummySystem 3.10.0-514.el7.x86_64 …", sysObjectID net-snmp's Linux agent: a server, vendor net-snmp
    LabDevice("os/linux/unknown-006", "net-snmp", "server", "linux"),
)


@dataclass
class DiscoveryLab:
    """The running lab: its network, its agents and what each address is."""

    net: TestNetwork
    devices: tuple[LabDevice, ...]  # with their addresses
    agents: dict[str, SnmpsimAgent]  # device name -> its agent
    icmp_only: tuple[str, ...]
    tcp_only: dict[str, tuple[int, ...]]  # address -> the ports it accepts (it drops ICMP)
    community: str = LAB_COMMUNITY

    @property
    def network(self) -> str:
        return self.net.network

    @property
    def monitor(self) -> str:
        """Our own end of the veth, inside the network: exclude it from scans."""
        return f"{self.net.prefix}.1"

    @property
    def layout(self) -> dict[str, str]:
        """address -> "snmp <recording basename>", "icmp" or "tcp <ports>"; addresses not listed are silent."""
        found = {}
        for device in self.devices:
            for address in (device.address, *device.aliases):
                found[address] = f"snmp {device.name}"
        found |= dict.fromkeys(self.icmp_only, "icmp")
        found |= {address: "tcp " + ",".join(map(str, ports)) for address, ports in self.tcp_only.items()}
        return found

    def scanned(self) -> list[str]:
        """Every address of the network a scan of it touches (all hosts but the monitor)."""
        return [f"{self.net.prefix}.{i}" for i in range(2, 255)]

    def verify_routes(self) -> None:
        """AssertionError unless every address a scan may send to goes out through the lab's veth."""
        self.net.verify_route(*self.scanned())

    def recorded(self, device: LabDevice, oid: str) -> object:
        """The value the device's recording holds at `oid` (octets as bytes)."""
        return self.agents[device.name].recorded(self.community, oid.rsplit(".", 1)[0])[oid][1]


class _TcpListener:
    """Sockets listening inside the namespace (created by a thread that joined it), each connection accepted and
    closed at once by a thread of ours."""

    def __init__(self, net: TestNetwork, address: str, ports: tuple[int, ...]) -> None:
        self._sockets = net.run_inside(lambda: [self._listen(address, port) for port in ports])
        self._selector = selectors.DefaultSelector()
        for sock in self._sockets:
            self._selector.register(sock, selectors.EVENT_READ)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"lab-tcp-{address}", daemon=True)
        self._thread.start()

    @staticmethod
    def _listen(address: str, port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        sock.listen(64)
        sock.setblocking(False)
        return sock

    def _serve(self) -> None:
        while not self._stopping.is_set():
            for key, _ in self._selector.select(timeout=0.2):
                try:
                    connection, _ = key.fileobj.accept()
                except OSError:
                    continue
                connection.close()

    def close(self) -> None:
        self._stopping.set()
        self._thread.join()
        self._selector.close()
        for sock in self._sockets:
            sock.close()


def _start_agents(net: TestNetwork, devices: tuple[LabDevice, ...], logs: Path, agents: dict[str, SnmpsimAgent]
                  ) -> None:
    """One snmpsim process per device inside the namespace, its recording as LAB_COMMUNITY, put in `agents` (the
    caller stops them); started together (indexing a changed recording takes seconds), returns once all answer."""
    import snmpsim_data

    source_dir = Path(snmpsim_data.__file__).parent / "data"
    LAB_STORE.mkdir(parents=True, exist_ok=True)
    # The lock of the session snmpsim fixture: one session at a time prepares recordings and builds indexes.
    with open(SNMPSIM_STORE.parent / "snmpsim.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for device in devices:
            matches = sorted(source_dir.glob(f"{device.recording}.snmprec*"))
            if not matches:
                pytest.fail(f"snmpsim-data has no recording {device.recording} under {source_dir}", pytrace=False)
            store = LAB_STORE / device.name
            (store / "data").mkdir(parents=True, exist_ok=True)
            served = serve_recording(matches[0], store / "data" / f"{LAB_COMMUNITY}.snmprec")
            agent = agents[device.name] = SnmpsimAgent(
                logs / device.name, 161, {LAB_COMMUNITY: served}, store, host=device.address, netns=net.name,
                aliases=device.aliases)
            agent.launch()
        for agent in agents.values():
            agent.wait_ready()


def _create_network() -> TestNetwork:
    remove_stale_namespaces()
    try:
        return TestNetwork.create(LAB_PREFIX, suffix="-lab")
    except NetnsUnavailable as exc:
        if os.environ.get("CI"):  # CI must run these tests, not pass by skipping them
            pytest.fail(f"discovery lab namespace unavailable in CI: {exc}")
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def discovery_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DiscoveryLab]:
    """The lab for the session (see the module docstring); skips the requesting test if it cannot be built here
    (fails under CI=1)."""
    net = _create_network()
    agents: dict[str, SnmpsimAgent] = {}
    listener = None
    try:
        answering = net.answering
        devices = [replace(device, address=answering[i]) for i, device in enumerate(LAB_DEVICES)]
        devices[1] = replace(devices[1], aliases=(answering[len(LAB_DEVICES)],))  # the router
        lab = DiscoveryLab(net, tuple(devices), {}, icmp_only=tuple(answering[len(LAB_DEVICES) + 1:]),
                           tcp_only={net.dropping[0]: TCP_PORTS})
        lab.verify_routes()  # before the agents' readiness checks send anything
        listener = _TcpListener(net, net.dropping[0], TCP_PORTS)
        lab.agents = agents
        _start_agents(net, lab.devices, tmp_path_factory.mktemp("discovery-lab"), agents)
        yield lab
    finally:
        for agent in agents.values():
            agent.stop()
        if listener is not None:
            listener.close()
        net.destroy()
