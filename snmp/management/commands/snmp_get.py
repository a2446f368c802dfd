from django.core.management.base import BaseCommand, CommandError

from snmp.client import SNMPError, get_sync
from snmp.management.commands._device import BAD_INPUT, device_and_target, format_varbind
from snmp.oids import UnknownObjectName, numeric_oid


class Command(BaseCommand):
    help = ("SNMP GET of one or more objects from a device (by name or id), with its stored credential; "
            "printed like `snmpget -On`.")

    def add_arguments(self, parser):
        parser.add_argument("device", help="device name or id")
        parser.add_argument("oids", nargs="+", metavar="oid",
                            help="numeric OIDs or MIB names with their index, e.g. 1.3.6.1.2.1.1.5.0, sysName.0, "
                                 "ifHCInOctets.3")

    def handle(self, *args, device: str, oids: list[str], **options) -> None:
        try:
            oids = [numeric_oid(oid) for oid in oids]
        except (ValueError, UnknownObjectName) as exc:
            raise CommandError(str(exc), returncode=BAD_INPUT) from None
        _, target = device_and_target(device)
        try:
            values = get_sync(target, oids)
        except SNMPError as exc:
            raise CommandError(str(exc)) from None
        for oid in oids:
            self.stdout.write(format_varbind(oid, values[oid]))
