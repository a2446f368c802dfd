from django.core.management.base import BaseCommand, CommandError

from snmp.client import SNMPError, get_sync
from snmp.management.commands._device import BAD_INPUT, device_and_target, format_varbind
from snmp.oids import parse_oid


class Command(BaseCommand):
    help = "SNMP GET of one or more numeric OIDs from a device (by name or id), with its stored credential."

    def add_arguments(self, parser):
        parser.add_argument("device", help="device name or id")
        parser.add_argument("oids", nargs="+", help="numeric OIDs, e.g. 1.3.6.1.2.1.1.5.0")

    def handle(self, *args, device: str, oids: list[str], **options) -> None:
        for oid in oids:
            try:
                parse_oid(oid)
            except ValueError as exc:
                raise CommandError(str(exc), returncode=BAD_INPUT) from None
        _, target = device_and_target(device)
        try:
            values = get_sync(target, oids)
        except SNMPError as exc:
            raise CommandError(str(exc)) from None
        for oid in oids:
            self.stdout.write(format_varbind(oid, values[oid]))
