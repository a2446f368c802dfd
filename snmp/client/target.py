"""Where and how to ask: `Target` (address, version, credentials, timing), checked by the same rules as a
credential, and the `Agent` its requests go to once its address is resolved."""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from snmp.client.errors import SNMPError
from snmp.validators import access_problems
from wardsite.secrets import require_readable

if TYPE_CHECKING:
    from snmp.models import SNMPCredential


@dataclass(frozen=True)
class Target:
    """Where and how to ask: address, SNMP version and credentials, timeout (seconds per try) and retries."""

    host: str
    port: int = 161
    version: str = "v2c"
    community: str = field(default="", repr=False)
    security_name: str = ""
    auth_protocol: str = ""
    auth_key: str = field(default="", repr=False)
    priv_protocol: str = ""
    priv_key: str = field(default="", repr=False)
    context_name: str = ""
    timeout: float = 2.0
    retries: int = 1

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem:
            raise ValueError(f"SNMP target {self.host}:{self.port}: {problem}")

    def _problem(self) -> str | None:
        """The first reason this target cannot work, if any."""
        if not self.host:
            return "a host is required"
        if not 0 < self.port < 65536:
            return f"port {self.port} is not between 1 and 65535"
        if self.timeout <= 0 or self.retries < 0:
            return "timeout must be > 0 seconds and retries >= 0"
        return next(iter(access_problems(self).values()), None)

    @classmethod
    def from_credential(cls, credential: SNMPCredential, host: str, port: int = 161) -> Target:
        """The target for `host`:`port` with an snmp.models.SNMPCredential's settings; SecretDecryptionError (a
        ValueError) naming the credential if a secret it uses cannot be decrypted."""
        from snmp.models import SNMPCredential

        if not isinstance(credential, SNMPCredential):
            raise TypeError(f"expected an SNMPCredential, got {type(credential).__name__}")
        require_readable(credential)
        return cls(
            host=host, port=port, version=credential.version, community=credential.community or "",
            security_name=credential.security_name, auth_protocol=credential.auth_protocol,
            auth_key=credential.auth_key or "", priv_protocol=credential.priv_protocol,
            priv_key=credential.priv_key or "", context_name=credential.context_name,
            timeout=credential.timeout_ms / 1000, retries=credential.retries,
        )

    @property
    def security_level(self) -> str:
        """The USM security level: noAuthNoPriv, authNoPriv or authPriv (noAuthNoPriv for v1/v2c)."""
        if self.version != "v3":
            return "noAuthNoPriv"
        if self.priv_protocol:
            return "authPriv"
        return "authNoPriv" if self.auth_protocol else "noAuthNoPriv"

    def __str__(self) -> str:
        """For messages: address and version, with the v3 user; never a secret."""
        who = f"SNMPv3 user {self.security_name!r} ({self.security_level})" if self.version == "v3" else (
            f"SNMP{self.version}")
        return f"{self.host}:{self.port} {who}"


@dataclass(frozen=True)
class Agent:
    """A target with its address resolved: what the requests of one get or walk go to."""

    target: Target
    address: tuple[str, int]
    family: int


async def resolve(target: Target) -> Agent:
    """The target with its address resolved: an IP address as it is, a name through DNS (IPv4 first)."""
    try:
        ip = ipaddress.ip_address(target.host)
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(target.host, target.port, type=socket.SOCK_DGRAM)
        except socket.gaierror as exc:
            raise SNMPError(f"{target}: cannot resolve {target.host!r} ({exc.strerror}): check the device's address")
        family, _, _, _, sockaddr = min(infos, key=lambda info: info[0] != socket.AF_INET)  # IPv4 first
        return Agent(target, (sockaddr[0], target.port), family)
    return Agent(target, (str(ip), target.port), socket.AF_INET6 if ip.version == 6 else socket.AF_INET)
