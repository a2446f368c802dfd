"""What a scan may touch: target lists (networks, ranges, addresses) parsed, counted, expanded, and checked against
the allow-list and the size limit."""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator
from itertools import islice

from django.conf import settings

from wardsite.text import quote

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_SPLIT = re.compile(r"[\s,;]+")


class TargetError(ValueError):
    """A target that is not a network, range or address; the message names it and says why."""


class ScanRefused(Exception):
    """A scan a safety rule refuses; the message names the rule (allow-list, size limit)."""


def parse(text: str) -> list[Network]:
    """Targets separated by commas, spaces or lines: IPv4 networks (10.0.0.0/24), IPv4 ranges (10.0.0.10-10.0.0.50
    or 10.0.0.10-50), single IPv4 or IPv6 addresses. IPv6 is taken as explicit addresses only (a /64 cannot be
    swept). Raises TargetError naming the first bad item."""
    networks: list[Network] = []
    for item in filter(None, _SPLIT.split(text or "")):
        networks += _parse_item(item)
    return networks


def _parse_item(item: str) -> list[Network]:
    if "-" in item:
        return _parse_range(item)
    if "/" in item:
        try:
            network = ipaddress.ip_network(item, strict=False)
        except ValueError as exc:
            raise TargetError(f"{quote(item)} is not a network: {exc}") from None
        if network.version == 6 and network.prefixlen != 128:
            raise TargetError(f"{quote(item)}: IPv6 is scanned by explicit addresses only, not networks")
        return [network]
    try:
        return [ipaddress.ip_network(ipaddress.ip_address(item))]
    except ValueError:
        raise TargetError(f"{quote(item)} is not an address, a range (10.0.0.10-10.0.0.50) or a network (10.0.0.0/24)"
                          ) from None


def _parse_range(item: str) -> list[Network]:
    first_text, _, last_text = item.partition("-")
    try:
        first = ipaddress.IPv4Address(first_text)
        last = (ipaddress.IPv4Address(f"{first_text.rsplit('.', 1)[0]}.{last_text}") if last_text.isdigit()
                else ipaddress.IPv4Address(last_text))
    except ValueError:
        raise TargetError(f"{quote(item)} is not an IPv4 range like 10.0.0.10-10.0.0.50 or 10.0.0.10-50") from None
    if last < first:
        raise TargetError(f"{quote(item)}: the range ends before it starts")
    return list(ipaddress.summarize_address_range(first, last))


def _hosts(network: Network) -> Iterator[str]:
    """The addresses of a network worth probing: without network and broadcast address when it has them."""
    hosts = network.hosts() if network.num_addresses > 2 else iter(network)
    return (str(address) for address in hosts)


def expand(targets: Iterable[Network], exclusions: Iterable[Network] = ()) -> list[str]:
    """Every address to probe once, in order, minus the exclusions."""
    excluded = list(exclusions)
    seen: set[str] = set()
    found = []
    for network in targets:
        for address in _hosts(network):
            if address not in seen and not any(ipaddress.ip_address(address) in ex for ex in excluded):
                seen.add(address)
                found.append(address)
    return found


def size(targets: Iterable[Network]) -> int:
    """How many addresses the targets span (before exclusions)."""
    return sum(network.num_addresses for network in targets)


ALLOW_LIST = "DISCOVERY_ALLOWED_NETWORKS and Discovery › Allowed networks in the admin"


def allowed_networks() -> list[Network]:
    """DISCOVERY_ALLOWED_NETWORKS plus the allowed networks added in the admin."""
    from discovery.models import AllowedNetwork

    return [*parse(settings.DISCOVERY_ALLOWED_NETWORKS),
            *(ipaddress.ip_network(n) for n in AllowedNetwork.objects.values_list("network", flat=True))]


def check_scan(targets: list[Network], *, limit: int | None = None) -> None:
    """Raise ScanRefused unless every target lies inside the allow-list and the scan is within the size limit."""
    allowed = allowed_networks()
    outside = [str(t) for t in targets if not any(t.version == a.version and t.subnet_of(a) for a in allowed)]
    if outside:
        shown = ", ".join(islice(outside, 5)) + (" …" if len(outside) > 5 else "")
        raise ScanRefused(f"refused by the allow-list: {shown} outside the networks that may be scanned "
                          f"({ALLOW_LIST})")
    limit = limit or settings.DISCOVERY_MAX_ADDRESSES
    if size(targets) > limit:
        raise ScanRefused(f"refused by the size limit: {size(targets)} addresses, more than "
                          f"DISCOVERY_MAX_ADDRESSES ({limit}) in one scan")
