from django.core.management.base import BaseCommand, CommandError

from snmp.management.commands._device import BAD_INPUT, device_and_target
from snmp.services import SNMPConfigError, poll_device
from wardsite.numbers import readable


class Command(BaseCommand):
    help = ("Poll a device (by name or id) now: all its enabled SNMP items and interfaces, written to "
            "VictoriaMetrics like a scheduled poll; prints the values.")

    def add_arguments(self, parser):
        parser.add_argument("device", help="device name or id")

    def handle(self, *args, device: str, **options) -> None:
        found, _ = device_and_target(device)
        try:
            result = poll_device(found)
        except SNMPConfigError as exc:
            raise CommandError(str(exc), returncode=BAD_INPUT) from None
        if result.error:
            raise CommandError(result.error)
        if result.uptime_seconds is not None:
            self.stdout.write(f"uptime: {result.uptime_seconds:.0f} s")
        for name, item in sorted(result.items.items()):
            self.stdout.write(f"{name} = {item.value}" + (f"  ({item.error})" if item.error else ""))
        for name, series in result.interfaces.items():
            values = ", ".join(f"{key}={readable(value)}" for key, value in series.items() if key != "ifIndex")
            self.stdout.write(f"{name} [{series['ifIndex']}]: {values}")
        self.stdout.write(f"{len(result.interfaces)} interfaces, {result.samples_written} samples written")
