"""Pytest plugin: a private network namespace with answering, silent and ICMP-dropping hosts.

Layout (for the default prefix 198.51.100, a TEST-NET-2 range):
  root namespace  wf<pid>h  198.51.100.1/24   (the monitor stays here, so 127.0.0.1 services keep working)
  namespace wf-test-<pid>, device wf0:
      .10-.19  answering hosts
      .30-.39  hosts whose echo requests nft drops
      .20-.29  silent: nobody has them, ARP fails
Packets to these addresses can only reach the veth pair; `verify_route` proves it before any send.
Also usable outside pytest (bench/icmp_sweep.py): TestNetwork.create() / destroy().

TestNetwork.create() options, for a second network in the same process (discovery lab, sweep benchmark):
  suffix      appended to the namespace name (wf-test-<pid><suffix>) and so to the veth's: "-lab" -> wf<pid>-labh
  prefix_len  the network's length, e.g. 22 with prefix "198.18.4" for 198.18.4.0/22
  routed      the root namespace reaches the network through a gateway ({prefix}.2, on a /30 with our {prefix}.1)
              instead of on-link: a large network of silent addresses then costs one neighbour entry, not one
              per address (the kernel's neighbour table is shared by all namespaces, 1,024 entries by default);
              inside, the hosts are /32 addresses and the rest of the network is a blackhole route.
"""
from __future__ import annotations

import ctypes
import ipaddress
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import pytest

NAME_PREFIX = "wf-test-"
DEFAULT_PREFIX = "198.51.100"
_INNER_DEV = "wf0"
_CLONE_NEWNET = 0x40000000
_NFT_DROP_ECHO = """
table inet wf_test {{
  chain input {{
    type filter hook input priority 0;
    ip daddr {first}-{last} icmp type echo-request drop
  }}
}}
"""
T = TypeVar("T")


class NetnsUnavailable(Exception):
    """Namespaces cannot be set up here; the message says why (used as the skip reason)."""


def _ip(*args: str, stdin: str | None = None) -> str:
    """Run `ip ARGS`; raises CalledProcessError with ip's message on failure."""
    done = subprocess.run(["ip", *args], input=stdin, capture_output=True, text=True, check=False)
    if done.returncode:
        raise subprocess.CalledProcessError(done.returncode, done.args, done.stdout, done.stderr)
    return done.stdout


def _host_dev(name: str) -> str:
    return f"wf{name.removeprefix(NAME_PREFIX)}h"  # interface names are limited to 15 chars


def _owner_pid(name: str) -> str:
    """The pid in wf-test-<pid> or wf-test-<pid><suffix> ("" for other names)."""
    rest = name.removeprefix(NAME_PREFIX) if name.startswith(NAME_PREFIX) else ""
    return rest.split("-", 1)[0]


def remove_stale_namespaces() -> list[str]:
    """Delete wf-test-<pid> namespaces whose process is gone (a killed run); returns their names."""
    if not shutil.which("ip") or os.geteuid() != 0:
        return []
    stale = []
    for line in _ip("netns", "list").splitlines():
        name = line.split()[0] if line.strip() else ""
        pid = _owner_pid(name)
        if pid.isdigit() and not _pid_alive(int(pid)):
            _delete(name)
            stale.append(name)
    return stale


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        pass
    return True


def _delete(name: str) -> None:
    """Delete the root-side veth first: the namespace (and with it the pair) can outlive
    `ip netns del` while a socket created inside it is still open."""
    for args in (("link", "del", _host_dev(name)), ("netns", "del", name)):
        try:
            _ip(*args)
        except subprocess.CalledProcessError:
            pass  # already gone


def _check_prerequisites(subnet: str) -> None:
    if os.geteuid() != 0:
        raise NetnsUnavailable("network namespace tests need root (ip netns, veth, nft)")
    for tool in ("ip", "nft"):
        if not shutil.which(tool):
            raise NetnsUnavailable(f"network namespace tests need the '{tool}' command")
    used = [
        line for scope in ("root", "match") for line in _ip("-o", "route", "show", scope, subnet, "table", "all").splitlines()
        if not line.startswith(("default", "unreachable default"))
    ]
    if used:
        raise NetnsUnavailable(f"{subnet} is already routed here ({used[0].strip()}); not touching it")


@dataclass
class TestNetwork:
    """A live test namespace; see the module docstring for its layout."""

    __test__ = False  # not a test class, despite the name

    name: str
    prefix: str
    prefix_len: int = 24
    routed: bool = False
    host_dev: str = field(init=False)
    answering: list[str] = field(init=False)
    silent: list[str] = field(init=False)
    dropping: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.host_dev = _host_dev(self.name)
        self.answering = [f"{self.prefix}.{i}" for i in range(10, 20)]
        self.silent = [f"{self.prefix}.{i}" for i in range(20, 30)]
        self.dropping = [f"{self.prefix}.{i}" for i in range(30, 40)]

    @property
    def network(self) -> str:
        """The test network in CIDR notation, e.g. 198.51.100.0/24."""
        return str(ipaddress.ip_network(f"{self.prefix}.0/{self.prefix_len}"))

    @property
    def _host_len(self) -> int:
        """Prefix length of the addresses inside: on-link the network's, routed /32."""
        return 32 if self.routed else self.prefix_len

    @classmethod
    def create(cls, prefix: str = DEFAULT_PREFIX, *, prefix_len: int = 24, suffix: str = "",
               routed: bool = False) -> TestNetwork:
        """Set the namespace up (options: see the module docstring); NetnsUnavailable if impossible here.
        Cleans up after a partial setup."""
        net = cls(f"{NAME_PREFIX}{os.getpid()}{suffix}", prefix, prefix_len, routed)
        if len(net.host_dev) > 15 or (suffix and not suffix.startswith("-")):
            raise ValueError(f"suffix {suffix!r}: give '-' and a few characters (interface name {net.host_dev!r})")
        _check_prerequisites(net.network)
        try:
            net._build()
            net.verify_route(*net.answering, *net.silent, *net.dropping)
        except subprocess.CalledProcessError as exc:
            net.destroy()
            raise NetnsUnavailable(f"cannot build test namespace: {' '.join(exc.cmd)}: {exc.stderr.strip()}") from exc
        except BaseException:
            net.destroy()
            raise
        return net

    def _build(self) -> None:
        ns = ("-n", self.name)
        _ip("netns", "add", self.name)
        _ip("link", "add", self.host_dev, "type", "veth", "peer", "name", _INNER_DEV, "netns", self.name)
        _ip("addr", "add", f"{self.prefix}.1/{30 if self.routed else self.prefix_len}", "dev", self.host_dev)
        _ip("link", "set", self.host_dev, "up")
        gateway = f"addr add {self.prefix}.2/30 dev {_INNER_DEV}\n" if self.routed else ""
        _ip(*ns, "-batch", "-", stdin=gateway + "".join(
            f"addr add {a}/{self._host_len} dev {_INNER_DEV}\n" for a in self.answering + self.dropping
        ) + f"link set lo up\nlink set {_INNER_DEV} up\n")
        if self.routed:  # the blackhole drops what no host takes, silently (no ICMP error)
            _ip(*ns, "route", "add", "blackhole", self.network)
            _ip("route", "add", self.network, "via", f"{self.prefix}.2", "dev", self.host_dev)
        # Per-namespace sysctls. ping_group_range: a thread inside may use datagram ICMP sockets.
        # promote_secondaries: silence() of the first address must not delete all the others with it.
        self._exec("sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647",
                   "net.ipv4.conf.all.promote_secondaries=1", f"net.ipv4.conf.{_INNER_DEV}.promote_secondaries=1")
        self._exec("nft", "-f", "-", stdin=_NFT_DROP_ECHO.format(first=self.dropping[0], last=self.dropping[-1]))

    def _exec(self, *command: str, stdin: str | None = None) -> None:
        subprocess.run(["ip", "netns", "exec", self.name, *command], input=stdin, text=True,
                       capture_output=True, check=True)

    def destroy(self) -> None:
        _delete(self.name)

    def verify_route(self, *addrs: str) -> None:
        """Raise AssertionError unless every address is routed via our veth (never the default route)."""
        out = _ip("-o", "-batch", "-", stdin="".join(f"route get {a}\n" for a in addrs))
        bad = [line for line in out.splitlines() if f" dev {self.host_dev} " not in f"{line} "]
        if bad or len(out.splitlines()) != len(addrs):
            raise AssertionError(f"refusing to send: not routed via {self.host_dev}: {bad or out}")

    def silence(self, addr: str) -> None:
        """Remove the address inside the namespace: the host stops answering (the route stays ours)."""
        _ip("-n", self.name, "addr", "del", f"{addr}/{self._host_len}", "dev", _INNER_DEV)

    def restore(self, addr: str) -> None:
        _ip("-n", self.name, "addr", "add", f"{addr}/{self._host_len}", "dev", _INNER_DEV)

    def run_inside(self, fn: Callable[[], T]) -> T:
        """Run fn in a thread that has joined the namespace."""
        return run_in_namespace(self.name, fn)


def run_in_namespace(name: str, fn: Callable[[], T]) -> T:
    """Run fn in a thread that has joined namespace `name` (setns affects only the calling thread; the rest of
    the process stays in the root namespace)."""
    box: dict[str, object] = {}

    def target() -> None:
        try:
            _setns(f"/run/netns/{name}")
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name=f"in-{name}")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


@contextmanager
def isolated_namespace(suffix: str) -> Iterator[str]:
    """A namespace with nothing but its own loopback: a machine with no network at all, whose 127.0.0.1 ports are
    free (no shared Redis or PostgreSQL) and from which no packet can leave. Yields its name.

    Raises NetnsUnavailable when namespaces cannot be made here.
    """
    if os.geteuid() != 0 or not shutil.which("ip"):
        raise NetnsUnavailable("network namespace tests need root and the 'ip' command")
    remove_stale_namespaces()
    name = f"{NAME_PREFIX}{os.getpid()}{suffix}"
    _ip("netns", "add", name)
    try:
        _ip("-n", name, "link", "set", "lo", "up")
        yield name
    finally:
        _delete(name)


def _setns(path: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, _CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({path}): {os.strerror(err)}")
    finally:
        os.close(fd)


@pytest.fixture(scope="session")
def netns() -> Iterator[TestNetwork]:
    """The session's test namespace; skips the requesting test if it cannot be built here."""
    remove_stale_namespaces()
    try:
        net = TestNetwork.create()
    except NetnsUnavailable as exc:
        if os.environ.get("CI"):  # CI must run these tests, not pass by skipping them
            pytest.fail(f"test namespace unavailable in CI: {exc}")
        pytest.skip(str(exc))
    try:
        yield net
    finally:
        net.destroy()
