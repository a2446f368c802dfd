"""Validation of what a device may be reached at."""
import ipaddress
import re

from django.core.exceptions import ValidationError

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def normalize_address(value: str) -> str:
    """Return the canonical form of an IPv4/IPv6 address or DNS name, or raise ValidationError."""
    value = (value or "").strip()
    if not value:
        raise ValidationError("Enter an IPv4/IPv6 address or a DNS name.", code="required")
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    name = value.rstrip(".").lower()
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise ValidationError(
            "%(value)s is neither an IPv4/IPv6 address nor a valid DNS name.", code="invalid", params={"value": value}
        )
    return name


def validate_address(value: str) -> None:
    normalize_address(value)
