"""The fleet bench's network (bench/fleet.py's docstring): a private namespace reached through one veth pair, in
which every 198.18.128-191.x address answers and one snmpd answers SNMP on all of them, and 1 % of the devices are
/32 addresses that `silence()` removes. Needs root."""
from __future__ import annotations

import os
import subprocess

from snmp_lab import veth_commands

NETWORK, GATEWAY, UPLINK = "198.18.128.0/17", "198.18.255.254", "198.18.255.253"


def _ip(*args: str, stdin: str | None = None) -> str:
    return subprocess.run(["ip", *args], input=stdin, text=True, capture_output=True, check=True).stdout


class FleetNetwork:
    """The namespace of the module docstring: `answering` and `silent` device addresses, `silence()` the latter."""

    def __init__(self, answering: int, silent: int) -> None:
        self.name, self.host_dev = f"wf-fleet-{os.getpid()}", f"wff{os.getpid()}h"
        self.answering = [f"198.18.{128 + i // 250}.{1 + i % 250}" for i in range(answering)]  # 16,000 at most
        self.silent = [f"198.18.{192 + i // 250}.{1 + i % 250}" for i in range(silent)]

    def build(self) -> None:
        if _ip("-o", "route", "show", "table", "all", "root", NETWORK).strip():
            raise SystemExit(f"{NETWORK} is already routed here; not touching it")
        _ip("netns", "add", self.name)
        _ip("link", "add", self.host_dev, "type", "veth", "peer", "name", "uplink", "netns", self.name)
        _ip("addr", "add", f"{UPLINK}/30", "dev", self.host_dev)
        _ip("link", "set", self.host_dev, "up")
        _ip("route", "add", NETWORK, "via", GATEWAY, "dev", self.host_dev)
        inside = [f"addr add {GATEWAY}/30 dev uplink", "link set uplink up", "link set lo up",
                  "route add local 198.18.128.0/18 dev lo", "route add blackhole 198.18.192.0/18",
                  *(f"addr add {address}/32 dev lo" for address in self.silent),
                  *(" ".join(command[1:]) for command in veth_commands(3))]
        _ip("-n", self.name, "-batch", "-", stdin="\n".join(inside) + "\n")
        probes = [self.answering[0], self.answering[-1], *self.silent[:1]]
        routes = _ip("-o", "-batch", "-", stdin="".join(f"route get {a}\n" for a in probes))
        if routes.count(f" dev {self.host_dev} ") != len(probes):
            raise SystemExit(f"the fleet's addresses are not all routed through {self.host_dev}:\n{routes}")

    def silence(self) -> None:
        _ip("-n", self.name, "-batch", "-", stdin="".join(f"addr del {a}/32 dev lo\n" for a in self.silent))

    def destroy(self) -> None:
        for args in (("link", "del", self.host_dev), ("netns", "del", self.name)):
            subprocess.run(["ip", *args], capture_output=True, check=False)
