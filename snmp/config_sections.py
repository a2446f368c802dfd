"""SNMP in the configuration document (wardsite/config_io.py): credentials (their secrets only on request),
the items that are configuration, and the interfaces an operator switched off. Latest values, schedules and
interface facts are state: discovery and polling find them again."""
from django.db.models import Q, QuerySet

from snmp.models import Interface, MonitoringItem, SNMPCredential
from wardsite.config_io import Section, register


def _configured_items() -> QuerySet:
    """Items made by hand, and template items an operator changed (`overrides`); the other template items are
    made again when the device's templates are applied."""
    return MonitoringItem.objects.filter(Q(template_item=None) | ~Q(overrides=[]))


def _switched_off() -> QuerySet:
    """Interfaces an operator chose not to poll; discovery keeps that choice for an interface it finds again."""
    return Interface.objects.filter(enabled=False)


register(
    Section("snmp_credentials", SNMPCredential),
    Section("snmp_items", MonitoringItem, key=("device", "name"), include=("template_item", "overrides"),
            objects=_configured_items),
    # the rest of an interface (type, speed, statuses) is what discovery last read
    Section("snmp_interfaces", Interface, key=("device", "if_index"), only=("name", "enabled"),
            objects=_switched_off),
)
