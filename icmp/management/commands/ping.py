from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from devices.models import Device
from devices.validators import normalize_address
from icmp.pinger import PingerError, ping_many
from wardsite.numbers import LOSS_DECIMALS, RTT_DECIMALS, readable
from wardsite.text import quote


class Command(BaseCommand):
    help = "Ping devices (by name) or addresses once and print RTT and loss; exit status 1 if any is unreachable."

    def add_arguments(self, parser):
        parser.add_argument("targets", nargs="+", help="device names or IPv4/IPv6 addresses or DNS names")
        parser.add_argument("-c", "--count", type=int, default=3, help="echo requests per target (default 3)")
        parser.add_argument("-i", "--interval", type=float, default=0.2, help="seconds between requests (default 0.2)")
        parser.add_argument("-t", "--timeout", type=float, default=1.0, help="seconds to wait for a reply (default 1)")

    def handle(self, *args, targets: list[str], count: int, interval: float, timeout: float, **options) -> None:
        if count < 1 or interval <= 0 or timeout <= 0:
            raise CommandError("--count must be >= 1, --interval and --timeout > 0")
        addresses = {target: self._address_of(target) for target in targets}
        try:
            results = ping_many(list(set(addresses.values())), count=count, interval=interval, timeout=timeout)
        except PingerError as exc:
            raise CommandError(str(exc)) from None
        unreachable = 0
        for target, address in addresses.items():
            result = results[address]
            shown = target if target == address else f"{target} ({address})"
            if result.is_alive:
                rtt = "/".join(readable(ms, RTT_DECIMALS) for ms in (result.min_ms, result.avg_ms, result.max_ms))
                self.stdout.write(
                    f"{shown}: {result.received}/{result.sent} received, "
                    f"loss {readable(result.loss_percent, LOSS_DECIMALS)}%, rtt min/avg/max {rtt} ms, "
                    f"jitter {readable(result.jitter_ms, RTT_DECIMALS)} ms"
                )
            else:
                unreachable += 1
                reason = f" ({result.error})" if result.error else ""
                self.stdout.write(self.style.ERROR(f"{shown}: unreachable, {result.sent} sent, 100% loss{reason}"))
        if unreachable:
            raise SystemExit(1)

    def _address_of(self, target: str) -> str:
        device = Device.objects.filter(name=target).values_list("address", flat=True).first()
        if device:
            return device
        try:
            return normalize_address(target)
        except ValidationError:
            raise CommandError(f"{quote(target)} is neither a device name nor an address") from None
