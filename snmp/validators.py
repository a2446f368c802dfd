"""What makes an OID, a series name or a set of SNMP access settings acceptable."""
from __future__ import annotations

import math
import re
from typing import Protocol

from django.core.exceptions import ValidationError

from snmp.choices import AuthProtocol, PrivProtocol, SNMPVersion
from snmp.oids import parse_oid
from wardsite.text import quote
from wardsite.exposition import LABEL_NAME

_METRIC_NAME = re.compile(r"[a-z_][a-z0-9_]*")
# Series the poller writes itself (see docs/snmp.md): an item must not write into them.
RESERVED_METRICS = frozenset({"snmp_up", "snmp_uptime_seconds", "snmp_poll_delay_seconds", "snmp_poll_duration_seconds"})
RESERVED_PREFIXES = ("snmp_if_", "ping_")
# Labels the poller puts on every series of a device (snmp.metrics.build), which would overwrite an item's own;
# names starting with __ are Prometheus' (__name__).
RESERVED_LABELS = frozenset({"device", "device_id"})
MAX_LABELS, MAX_LABEL_NAME, MAX_LABEL_VALUE = 20, 100, 1024
MAX_VALUE_MAP_ENTRIES, MAX_VALUE_KEY = 1000, 255  # the poller compares the first 255 characters of a value


def validate_oid(value: str) -> None:
    """A numeric OID such as 1.3.6.1.2.1.1.3.0 (a leading dot is allowed)."""
    try:
        parse_oid(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="invalid") from None


def validate_metric_name(value: str) -> None:
    """An item's name is its series name in VictoriaMetrics: lower-case snake_case, not one of the poller's own."""
    if not _METRIC_NAME.fullmatch(value):
        raise ValidationError(f"{quote(value)} is not a metric name: use lower-case letters, digits and _, "
                              "e.g. cpu_usage",
                              code="invalid")
    if value in RESERVED_METRICS or value.startswith(RESERVED_PREFIXES):
        raise ValidationError(f"{quote(value)} is a series the poller writes itself: choose another name",
                              code="reserved")


def label_problems(labels: object) -> list[str]:
    """Why `labels` cannot be an item's extra series labels: a flat object of label names to texts."""
    if not isinstance(labels, dict):
        return ['expected an object of label names to texts, e.g. {"cpu": "1"}']
    if len(labels) > MAX_LABELS:
        return [f"{len(labels)} labels: {MAX_LABELS} at most"]
    problems = []
    for name, value in labels.items():
        if not isinstance(name, str) or len(name) > MAX_LABEL_NAME or not LABEL_NAME.fullmatch(name):
            problems.append(f"{quote(name)} is not a label name: letters, digits and _, not starting with a digit, "
                            f"{MAX_LABEL_NAME} characters at most")
        elif name in RESERVED_LABELS or name.startswith("__"):
            problems.append(f"{quote(name)} is a label the poller sets itself: choose another name")
        elif not isinstance(value, str):
            problems.append(f"{name}: a label value is text, not {quote(value)}")
        elif len(value) > MAX_LABEL_VALUE:
            problems.append(f"{name}: a label value has {MAX_LABEL_VALUE:,} characters at most")
    return problems


def value_map_problems(value_map: object) -> list[str]:
    """Why `value_map` cannot turn raw values into numbers: an object of raw values (as text) to numbers."""
    if not isinstance(value_map, dict):
        return ['expected an object of raw values to numbers, e.g. {"on": 1, "off": 0}']
    if len(value_map) > MAX_VALUE_MAP_ENTRIES:
        return [f"{len(value_map):,} entries: {MAX_VALUE_MAP_ENTRIES:,} at most"]
    problems = []
    for raw, number in value_map.items():
        if not isinstance(raw, str) or len(raw) > MAX_VALUE_KEY:
            problems.append(f"{quote(raw)}: a raw value is text of {MAX_VALUE_KEY} characters at most")
        elif isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
            problems.append(f"{quote(raw)}: expected a number, not {quote(number)}")
    return problems


def validate_labels(value: object) -> None:
    if problems := label_problems(value):
        raise ValidationError(problems, code="invalid")


def validate_value_map(value: object) -> None:
    if problems := value_map_problems(value):
        raise ValidationError(problems, code="invalid")


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
        return {"version": f"version {quote(access.version)} is not one of {', '.join(SNMPVersion.values)}"}
    if access.version != SNMPVersion.V3:
        return {} if access.community else {"community": f"a community is required for SNMP{access.version}"}
    problems = {}
    if not access.security_name:
        problems["security_name"] = "a security name (user) is required for SNMPv3"
    auth, priv = access.auth_protocol, access.priv_protocol
    if auth and auth not in AuthProtocol.values:
        problems["auth_protocol"] = f"unknown auth protocol {quote(auth)} (one of {_names(AuthProtocol)})"
    if priv and priv not in PrivProtocol.values:
        problems["priv_protocol"] = f"unknown privacy protocol {quote(priv)} (one of {_names(PrivProtocol)})"
    elif priv and not auth:
        problems["priv_protocol"] = "privacy needs an auth protocol too (authPriv)"
    if auth and len(access.auth_key or "") < 8:
        problems["auth_key"] = "the SNMPv3 auth key must have at least 8 characters"
    if priv and len(access.priv_key or "") < 8:
        problems["priv_key"] = "the SNMPv3 privacy key must have at least 8 characters"
    return problems


def _names(protocols: type[AuthProtocol] | type[PrivProtocol]) -> str:
    return ", ".join(value for value in protocols.values if value)
