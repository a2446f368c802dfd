from django.core.management.base import BaseCommand, CommandError

from snmp.client import SNMPError, walk_sync
from snmp.management.commands._device import BAD_INPUT, device_and_target, format_varbind
from snmp.oids import UnknownObjectName, numeric_oid


class Command(BaseCommand):
    help = "SNMP walk (GETBULK, GETNEXT for v1) of a subtree of a device (by name or id)."

    def add_arguments(self, parser):
        parser.add_argument("device", help="device name or id")
        parser.add_argument("oid", help="the subtree: a numeric OID or a MIB name, e.g. 1.3.6.1.2.1.2.2.1.2, ifDescr, "
                                        "ifHCInOctets, system, ifXTable")
        parser.add_argument("--max-repetitions", type=int, default=25, help="GETBULK max-repetitions (default 25)")

    def handle(self, *args, device: str, oid: str, max_repetitions: int, **options) -> None:
        try:
            oid = numeric_oid(oid, subtree=True)
        except (ValueError, UnknownObjectName) as exc:
            raise CommandError(str(exc), returncode=BAD_INPUT) from None
        if max_repetitions < 1:
            raise CommandError("--max-repetitions must be at least 1", returncode=BAD_INPUT)
        _, target = device_and_target(device)
        try:
            rows = walk_sync(target, oid, max_repetitions=max_repetitions)
        except SNMPError as exc:
            raise CommandError(str(exc)) from None
        for row_oid, value in rows:
            self.stdout.write(format_varbind(row_oid, value))
