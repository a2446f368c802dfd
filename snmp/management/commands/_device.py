"""What the snmp_* commands share: finding the device and its SNMP target, printing values like net-snmp."""
from django.core.management.base import CommandError

from devices.models import Device
from devices.services import device_by_ref
from snmp.client import Target, Value
from snmp.services import SNMPConfigError, target_for

BAD_INPUT = 2  # exit status for input the command cannot act on


def device_and_target(ref: str) -> tuple[Device, Target]:
    try:
        device = device_by_ref(ref)
        return device, target_for(device)
    except (Device.DoesNotExist, SNMPConfigError) as exc:
        raise CommandError(str(exc), returncode=BAD_INPUT) from None


def format_varbind(oid: str, value: Value) -> str:
    """`OID = TYPE: value`, as snmpget -On prints it."""
    if value.missing:
        return f"{oid} = No Such {'Instance' if value.type == 'nosuchinstance' else 'Object'} at this OID"
    return f"{oid} = {value.type.upper()}: {value.text}"
