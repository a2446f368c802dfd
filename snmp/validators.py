from django.core.exceptions import ValidationError

from snmp.oids import parse_oid


def validate_oid(value: str) -> None:
    """A numeric OID such as 1.3.6.1.2.1.1.3.0 (a leading dot is allowed)."""
    try:
        parse_oid(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="invalid") from None
