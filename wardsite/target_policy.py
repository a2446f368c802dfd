"""Where the server may send credentials and probes on a user's request (an SNMP test of an address, a scan).

The allow-list belongs to discovery (DISCOVERY_ALLOWED_NETWORKS and its Allowed networks in the admin), which sits
above the apps that need it (snmp): discovery hands its allow-list over in its AppConfig.ready(). Without it nothing
is allowed.
"""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(Exception):
    """An address outside the allow-list (or one that does not resolve); the message names the list."""


@dataclass(frozen=True)
class AllowList:
    """The networks that may be reached (read at each check: they change in the admin) and where they are set."""

    networks: Callable[[], list[Network]]
    described_as: str


_allow_list: AllowList | None = None


def set_allow_list(networks: Callable[[], list[Network]], described_as: str) -> None:
    """Install the allow-list (discovery does, at start-up)."""
    global _allow_list
    _allow_list = AllowList(networks, described_as)


def resolve(host: str) -> list[Address]:
    """The addresses `host` (an address or a DNS name) stands for; TargetRefused if the name does not resolve."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_DGRAM)
    except (OSError, UnicodeError) as exc:
        raise TargetRefused(f"{host} does not resolve ({exc})") from None
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in found))


def allowed_address(host: str) -> str:
    """The address to send to for `host`: every address it resolves to must lie inside the allow-list (the one
    returned is the one checked, so a name that changes meanwhile cannot redirect the request)."""
    if _allow_list is None:
        raise TargetRefused("no allow-list is installed (the discovery app provides it): explicit addresses are "
                            "refused")
    addresses = resolve(host)
    allowed = _allow_list.networks()
    outside = [a for a in addresses if not any(a.version == n.version and a in n for n in allowed)]
    if outside:
        shown = ", ".join(map(str, outside[:3]))
        raise TargetRefused(f"{host} ({shown}) is outside the networks that may be reached: "
                            f"{_allow_list.described_as}")
    return str(addresses[0])
