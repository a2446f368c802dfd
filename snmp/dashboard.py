"""SNMP's panel of the dashboard (wardsite/dashboard.py): the busiest interfaces of the fleet, by their busier
direction over the last minutes, with their use of the link's speed."""
from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse

from devices.models import Device
from wardsite.dashboard import Panel, register
from wardsite.numbers import readable, with_prefix
from wardsite.victoria import VictoriaError, get_client

BUSIEST = 10
WINDOW = "5m"


@dataclass(frozen=True)
class Busy:
    device: Device
    interface: str
    rates: dict[str, float]  # "in", "out", "speed" (bit/s); a missing one unknown

    @property
    def url(self) -> str:
        """The device's page (its graphs show its busiest interfaces)."""
        return reverse("admin:devices_device_change", args=[self.device.pk])

    def shown(self, direction: str) -> str:
        return with_prefix(self.rates[direction], "bit/s") if direction in self.rates else "–"

    @property
    def inbound(self) -> str:
        return self.shown("in")

    @property
    def outbound(self) -> str:
        return self.shown("out")

    @property
    def utilisation(self) -> str:
        """The busier direction's share of the speed, in %."""
        speed = self.rates.get("speed")
        busier = max(self.rates.get("in", 0.0), self.rates.get("out", 0.0))
        return f"{readable(100 * busier / speed, 1)} %" if speed else "–"


def busiest() -> list[Busy]:
    """The BUSIEST interfaces with traffic, busiest first; raises VictoriaError."""
    client = get_client()
    rates = f'avg_over_time({{__name__=~"snmp_if_(in|out)_bps"}}[{WINDOW}])'
    top = [(_key(row), row["metric"].get("ifName", ""), float(row["value"][1])) for row in
           client.query(f"topk({BUSIEST}, max by (device_id, ifIndex, ifName) ({rates}))")]
    top = sorted((entry for entry in top if entry[2] > 0 and entry[0][0].isdigit()), key=lambda entry: -entry[2])
    devices = Device.objects.in_bulk([int(key[0]) for key, _, _ in top])
    if not devices:
        return []
    selected = "|".join(str(pk) for pk in devices)
    found: dict[tuple[str, str], dict[str, float]] = {}
    for row in client.query(f'avg_over_time({{__name__=~"snmp_if_(in|out|speed)_bps", device_id=~"{selected}"}}'
                            f'[{WINDOW}])'):
        direction = row["metric"]["__name__"].removeprefix("snmp_if_").removesuffix("_bps")
        found.setdefault(_key(row), {})[direction] = float(row["value"][1])
    return [Busy(devices[int(key[0])], name or key[1], found.get(key, {})) for key, name, _ in top
            if int(key[0]) in devices]


def _key(row: dict) -> tuple[str, str]:
    """(device_id, ifIndex) of a series."""
    return row["metric"].get("device_id", ""), row["metric"].get("ifIndex", "")


def _context(request: HttpRequest) -> dict:
    try:
        return {"window": WINDOW, "interfaces": busiest()}
    except VictoriaError:
        return {"window": WINDOW, "unavailable": True}


def register_panels() -> None:
    """From SnmpConfig.ready()."""
    register(Panel("busiest-interfaces", "Busiest interfaces", "snmp/dashboard/busiest.html", _context, order=50,
                   permission="snmp.view_interface"))
