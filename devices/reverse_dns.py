"""Reverse DNS of an address, bounded in time: what a device added with only an address is named after."""
from __future__ import annotations

import ipaddress
import socket
import threading

# A lookup that takes longer is given up: adding a device must not hang on a slow or absent DNS server.
TIMEOUT_SECONDS = 1.0


def ptr_name(address: str, timeout: float = TIMEOUT_SECONDS) -> str:
    """The name the address resolves back to, or "" when it has none, answers after `timeout` or is not an IP."""
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return ""
    found: list[str] = []

    def lookup() -> None:
        try:
            found.append(socket.gethostbyaddr(address)[0])
        except OSError:
            pass

    # a daemon thread: a lookup still waiting for DNS after the timeout ends on its own without holding anyone up
    worker = threading.Thread(target=lookup, name=f"reverse-dns {address}", daemon=True)
    worker.start()
    worker.join(timeout)
    return found[0] if found else ""
