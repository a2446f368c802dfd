"""What the SNMP benchmarks share: one net-snmp snmpd playing every device (it answers from whichever address it
is asked on), veth ports for its ifXTable rows, and the CPU of a process read from /proc."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from snmp import client  # noqa: E402
from snmp.client import Target  # noqa: E402

COMMUNITY = "public"
SNMP_IN_PKTS = "1.3.6.1.2.1.11.1.0"


def veth_commands(pairs: int, prefix: str = "swp") -> list[list[str]]:
    """`ip` commands adding `pairs` veth pairs (2 × pairs ports, up), for the namespace they run in."""
    commands = []
    for first in range(1, 2 * pairs, 2):
        commands += [["ip", "link", "add", f"{prefix}{first}", "type", "veth", "peer", "name", f"{prefix}{first + 1}"],
                     ["ip", "link", "set", f"{prefix}{first}", "up"], ["ip", "link", "set", f"{prefix}{first + 1}", "up"]]
    return commands


def cpu_seconds(pid: int, children: bool = False) -> float:
    """User + system CPU of process `pid` (all its threads) so far; with `children`, plus its waited-for children's."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def wait_until(ready: Callable[[], bool], what: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 15
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{what} did not start")
        time.sleep(0.1)


class Agent:
    """net-snmp snmpd on UDP 161, configured from scratch in `directory`; in the named network namespace `netns`
    if given (else in this process's), checked through `address`."""

    def __init__(self, directory: Path, address: str = "127.0.0.1", netns: str | None = None) -> None:
        binary = shutil.which("snmpd", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))
        if binary is None:
            raise SystemExit("snmpd is not installed: run `make bench` (Debian package snmpd)")
        conf = directory / "snmpd.conf"
        # One agent plays every device, so all requests in flight queue at its socket: give it their room.
        conf.write_text(f"agentAddress udp:161\nrocommunity {COMMUNITY} default\n[snmp] serverRecvBuf 4194304\n")
        env = {**os.environ, "SNMPCONFPATH": str(directory), "SNMP_PERSISTENT_DIR": str(directory / "persist")}
        inside = ["ip", "netns", "exec", netns] if netns else []  # `ip netns exec` execs: the pid is snmpd's
        self.process = subprocess.Popen(
            [*inside, binary, "-f", "-C", "-c", str(conf), "-m", "", "-Lf", str(directory / "snmpd.log"),
             "-I", "-smux,mteTrigger,mteTriggerConf"], env=env, stdin=subprocess.DEVNULL)
        self.target = Target(address, community=COMMUNITY, timeout=0.5, retries=0)
        wait_until(self._answers, "snmpd", self.process)

    def _answers(self) -> bool:
        try:
            self.packets()
        except client.SNMPError:
            return False
        return True

    def packets(self) -> int:
        """snmpInPkts: every message the agent received, this very request included."""
        return client.get_sync(self.target, [SNMP_IN_PKTS])[SNMP_IN_PKTS].value

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()
