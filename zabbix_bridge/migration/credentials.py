"""SNMP credentials for imported hosts: one per distinct set of settings and secrets, an existing one when it
has them (compared decrypted), else a new one named after the server ("zabbix-prod v2c #1")."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from snmp.choices import SNMPVersion
from snmp.models import SNMPCredential
from zabbix_bridge.migration.snmp_access import Access

MAX_NAME = SNMPCredential._meta.get_field("name").max_length


@dataclass
class CredentialChoice:
    """The credential some hosts will use: an existing one (`credential`), or one to create named `name`."""

    name: str
    access: Access
    credential: SNMPCredential | None = None
    hosts: list[str] = field(default_factory=list)
    new: bool = True  # made by this import (still True once it was)

    def as_dict(self) -> dict:
        return {"name": self.name, "action": "create" if self.new else "reuse", "settings": self.access.describe(),
                "hosts": sorted(self.hosts)}


def access_of(credential: SNMPCredential) -> Access:
    """A stored credential's settings and secrets (decrypted), with the fields its version does not use blank."""
    if credential.version != SNMPVersion.V3:
        return Access(credential.version, community=credential.community or "")
    return Access(credential.version, security_name=credential.security_name,
                  auth_protocol=credential.auth_protocol, auth_key=credential.auth_key or "",
                  priv_protocol=credential.priv_protocol, priv_key=credential.priv_key or "",
                  context_name=credential.context_name)


class CredentialPool:
    """Chooses credentials during planning, so that hosts with the same settings share one."""

    def __init__(self, server_name: str) -> None:
        self.server_name = server_name
        self.choices: dict[Access, CredentialChoice] = {}
        self.names = set(SNMPCredential.objects.values_list("name", flat=True))
        self.stored: dict[Access, SNMPCredential] = {}
        for credential in SNMPCredential.objects.order_by("pk"):
            self.stored.setdefault(access_of(credential), credential)  # the oldest of identical ones

    def choose(self, access: Access, host: str) -> CredentialChoice:
        """The credential for these settings, recording that `host` uses it."""
        choice = self.choices.get(access)
        if choice is None:
            stored = self.stored.get(access)
            name = stored.name if stored else self._free_name(access.version)
            choice = self.choices[access] = CredentialChoice(name, access, stored, new=stored is None)
        choice.hosts.append(host)
        return choice

    def _free_name(self, version: str) -> str:
        number = 1
        while (name := f"{self.server_name[:MAX_NAME - 12]} {version} #{number}") in self.names:
            number += 1
        self.names.add(name)
        return name


def create_missing(choices: list[CredentialChoice]) -> None:
    """Create the credentials chosen to be new (inside the caller's transaction)."""
    for choice in choices:
        if choice.credential is None:
            choice.credential = SNMPCredential.objects.create(name=choice.name, **asdict(choice.access))
