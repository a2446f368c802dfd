"""What makes an OID, a series name or a set of SNMP access settings acceptable."""
from __future__ import annotations

import re
from typing import Protocol

from django.core.exceptions import ValidationError

from snmp.choices import AuthProtocol, PrivProtocol, SNMPVersion
from snmp.oids import parse_oid

_METRIC_NAME = re.compile(r"[a-z_][a-z0-9_]*")
# Series the poller writes itself (see docs/snmp.md): an item must not write into them.
RESERVED_METRICS = frozenset({"snmp_up", "snmp_uptime_seconds", "snmp_poll_delay_seconds", "snmp_poll_duration_seconds"})
RESERVED_PREFIXES = ("snmp_if_", "ping_")


def validate_oid(value: str) -> None:
    """A numeric OID such as 1.3.6.1.2.1.1.3.0 (a leading dot is allowed)."""
    try:
        parse_oid(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="invalid") from None


def validate_metric_name(value: str) -> None:
    """An item's name is its series name in VictoriaMetrics: lower-case snake_case, not one of the poller's own."""
    if not _METRIC_NAME.fullmatch(value):
        raise ValidationError(f"{value!r} is not a metric name: use lower-case letters, digits and _, e.g. cpu_usage",
                              code="invalid")
    if value in RESERVED_METRICS or value.startswith(RESERVED_PREFIXES):
        raise ValidationError(f"{value!r} is a series the poller writes itself: choose another name", code="reserved")


class SNMPAccess(Protocol):
    """What says how to talk to an agent: an snmp.models.SNMPCredential or an snmp.client.Target."""

    version: str
    community: str | None
    security_name: str
    auth_protocol: str
    auth_key: str | None
    priv_protocol: str
    priv_key: str | None


def access_problems(access: SNMPAccess) -> dict[str, str]:
    """Why these SNMP access settings cannot work, by field name, in the order to fix them; empty when they can.

    The one set of rules (and messages) for a credential's form and a client target.
    """
    if access.version not in SNMPVersion.values:
        return {"version": f"version {access.version!r} is not one of {', '.join(SNMPVersion.values)}"}
    if access.version != SNMPVersion.V3:
        return {} if access.community else {"community": f"a community is required for SNMP{access.version}"}
    problems = {}
    if not access.security_name:
        problems["security_name"] = "a security name (user) is required for SNMPv3"
    auth, priv = access.auth_protocol, access.priv_protocol
    if auth and auth not in AuthProtocol.values:
        problems["auth_protocol"] = f"unknown auth protocol {auth!r} (one of {_names(AuthProtocol)})"
    if priv and priv not in PrivProtocol.values:
        problems["priv_protocol"] = f"unknown privacy protocol {priv!r} (one of {_names(PrivProtocol)})"
    elif priv and not auth:
        problems["priv_protocol"] = "privacy needs an auth protocol too (authPriv)"
    if auth and len(access.auth_key or "") < 8:
        problems["auth_key"] = "the SNMPv3 auth key must have at least 8 characters"
    if priv and len(access.priv_key or "") < 8:
        problems["priv_key"] = "the SNMPv3 privacy key must have at least 8 characters"
    return problems


def _names(protocols: type[AuthProtocol] | type[PrivProtocol]) -> str:
    return ", ".join(value for value in protocols.values if value)
