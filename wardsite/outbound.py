"""Where the server may connect on its own initiative (notifications): public addresses, not its own network.

A channel's URL or SMTP host is typed by whoever configures channels; unchecked, `http://127.0.0.1:8428/...` or
`http://169.254.169.254/...` would turn the monitor against the network it sits in (server-side request forgery).
Every address a target's name resolves to must be public, or inside OUTBOUND_ALLOWED_NETWORKS. Targets are checked
when a channel is saved and again before it sends, and the connection checks the address it actually reached
(`check_peer`, used by `http_session` and the SMTP client), so a name that changes its answer in between (DNS
rebinding) still cannot reach a refused address.
"""
from __future__ import annotations

import ipaddress
import socket
from functools import lru_cache

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
ALLOW_HINT = "allow it with OUTBOUND_ALLOWED_NETWORKS"
SCHEMES = {"http": 80, "https": 443}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# (attribute, words), first match names the refusal; anything not global after these is "not a public address"
_KINDS = (("is_unspecified", "an unspecified"), ("is_loopback", "a loopback"), ("is_link_local", "a link-local"),
          ("is_multicast", "a multicast"), ("is_private", "a private"), ("is_reserved", "a reserved"))


class OutboundRefused(Exception):
    """A target the server must not connect to; the message says why (and how to allow it, where one can)."""


class Unresolvable(Exception):
    """A name that does not resolve (now): not refused at save, a transient failure at send."""


def resolve(host: str, port: int) -> list[str]:
    """Every address (A and AAAA) `host` resolves to. The one resolver of this module: tests replace it."""
    return list(dict.fromkeys(info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)))


def check_url(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL whose every address may be reached; OutboundRefused saying why not,
    Unresolvable when its name does not resolve. URLs with a user name or password in them are refused."""
    try:
        parts = parse_url(url) if isinstance(url, str) else None
    except LocationParseError:
        parts = None
    if parts is None or parts.scheme not in SCHEMES or not parts.host:
        raise OutboundRefused("an http:// or https:// URL is required")
    if parts.auth:
        raise OutboundRefused("a user name or password in the URL is not taken (webhooks: give a token as the "
                              "channel's secret, sent as a bearer token)")
    host, port = parts.host.strip("[]"), parts.port or SCHEMES[parts.scheme]
    check_host(host, port)
    return host, port


def check_host(host: str, port: int) -> None:
    """OutboundRefused when any address of `host` is refused; Unresolvable when it has none."""
    literal = _literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in resolve(host, port)]
        except (socket.gaierror, UnicodeError) as exc:
            raise Unresolvable(f"{host} does not resolve ({getattr(exc, 'strerror', None) or exc})") from None
    for address in addresses:
        why = refusal(address)
        if why:
            said = f"{address} is {why}" if literal is not None else f"{host} resolves to {address}, {why}"
            raise OutboundRefused(f"{said}; {ALLOW_HINT}")


def check_peer(address: str) -> None:
    """The address a connection reached, checked again: OutboundRefused if it is refused."""
    why = refusal(ipaddress.ip_address(address.split("%")[0]))
    if why:
        raise OutboundRefused(f"connected to {address}, {why} (the name's answer changed since it was checked); "
                              f"{ALLOW_HINT}")


def refusal(address: Address) -> str | None:
    """Why the server must not connect to `address` ('a loopback address'...); None when it may."""
    if _allowed(address):
        return None
    # a mapped address (::ffff:a.b.c.d) is that IPv4 host; 6to4, Teredo and NAT64 ones are judged both ways
    candidates = [address.ipv4_mapped] if getattr(address, "ipv4_mapped", None) else [
        *_embedded_ipv4(address), address]
    for candidate in candidates:
        for attribute, words in _KINDS:
            if getattr(candidate, attribute):
                return f"{words} address" + (f" ({candidate} in IPv6 form)" if candidate is not address else "")
    return None if all(c.is_global for c in candidates) else "not a public address"


def _embedded_ipv4(address: Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 address an IPv6 one stands for: mapped (::ffff:a.b.c.d), 6to4, Teredo's client, NAT64."""
    if address.version == 4:
        return []
    found = [address.ipv4_mapped, address.sixtofour, address.teredo[1] if address.teredo else None]
    if address in _NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [a for a in found if a is not None]


def _allowed(address: Address) -> bool:
    networks = allowed_networks(tuple(settings.OUTBOUND_ALLOWED_NETWORKS))
    return any(a in n for n in networks for a in (address, *_embedded_ipv4(address)) if a.version == n.version)


@lru_cache(maxsize=4)
def allowed_networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """OUTBOUND_ALLOWED_NETWORKS as networks (checked at start-up by wardsite.env.env_networks)."""
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return None


def url_shown(url: str) -> str:
    """What may be shown of a URL that carries a token: scheme and host (`https://hooks.slack.com/…`)."""
    try:
        parts = parse_url(url)
    except LocationParseError:
        return "…"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.host}{port}/…" if parts.scheme and parts.host else "…"


# --- HTTP: the connection checks the address it reached ---------------------------------------------------------

class _PeerChecked:
    """Mixin for urllib3 connections: after connecting, the peer's address is checked (closed if refused)."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        try:
            check_peer(sock.getpeername()[0])
        except OutboundRefused:
            sock.close()
            raise
        return sock


class _HTTPConnection(_PeerChecked, HTTPConnection):
    pass


class _HTTPSConnection(_PeerChecked, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _PeerCheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


def http_session() -> requests.Session:
    """A requests session whose direct connections check the peer's address (a proxy from HTTP(S)_PROXY is
    connected to as configured: the target's name is checked before sending, the proxy resolves it)."""
    session = requests.Session()
    adapter = _PeerCheckedAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
