import re

from django.core.exceptions import ValidationError

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
