"""Typed SNMP values as the client hands them out: `Value` and its `SNMPType`.

Here rather than in snmp/client/ so that the BER codec (snmp/ber.py) can build them without importing the
client; callers import them from snmp.client as before.
"""
from __future__ import annotations

import string
from dataclasses import dataclass
from enum import StrEnum


class SNMPType(StrEnum):
    INTEGER = "integer"
    COUNTER32 = "counter32"
    COUNTER64 = "counter64"
    GAUGE32 = "gauge32"  # also Unsigned32: same tag
    TIMETICKS = "timeticks"
    OCTETS = "octets"
    OID = "oid"
    IPADDRESS = "ipaddress"
    OPAQUE = "opaque"
    NULL = "null"
    NO_SUCH_OBJECT = "nosuchobject"
    NO_SUCH_INSTANCE = "nosuchinstance"
    END_OF_MIB_VIEW = "endofmibview"  # ends a walk; never in what get/walk return


_PRINTABLE = frozenset(string.printable)


@dataclass(frozen=True, slots=True)
class Value:
    """One SNMP value: int for numeric types, bytes for octets/opaque, dotted str for oid/ipaddress, else None."""

    type: SNMPType
    value: int | bytes | str | None

    @property
    def missing(self) -> bool:
        """True for noSuchObject/noSuchInstance: the agent has no such OID."""
        return self.type in (SNMPType.NO_SUCH_OBJECT, SNMPType.NO_SUCH_INSTANCE)

    @property
    def text(self) -> str:
        """Human-readable: printable octets decoded as UTF-8, other octets as hex (00:1a:2b), numbers as digits."""
        if isinstance(self.value, bytes):
            try:
                decoded = self.value.decode().rstrip("\x00")  # some agents NUL-terminate their strings
            except UnicodeDecodeError:
                return self.value.hex(":")
            if all(ch in _PRINTABLE or ch.isprintable() for ch in decoded):
                return decoded
            return self.value.hex(":")
        return "" if self.value is None else str(self.value)
