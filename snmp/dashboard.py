"""SNMP's panel of the dashboard (wardsite/dashboard.py): the busiest interfaces of the fleet by their busier
direction at their last poll (ranked by snmp.busiest as the polls go), in and out, and their use of the speed."""
from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse

from devices.models import Device
from snmp import busiest
from snmp.models import Interface
from wardsite.dashboard import Panel, register
from wardsite.numbers import readable, with_prefix
from wardsite.victoria import VictoriaError, get_client

BUSIEST = 10
WINDOW = "10m"  # how far back the last rate of an interface is looked for (busiest.STALE_SECONDS)


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


def busiest_interfaces() -> list[Busy]:
    """The BUSIEST interfaces with traffic, busiest first: their names and speeds from the database, their last
    rates from VictoriaMetrics (raises VictoriaError)."""
    ranked = busiest.top(BUSIEST)
    devices = Device.objects.in_bulk({device_id for device_id, _, _ in ranked})
    ranked = [entry for entry in ranked if entry[0] in devices]
    if not ranked:
        return []
    wanted = Q()
    for device_id, if_index, _ in ranked:
        wanted |= Q(device_id=device_id, if_index=if_index)
    interfaces = {(row.device_id, row.if_index): row for row in Interface.objects.filter(wanted)}
    selected = "|".join(str(pk) for pk in devices)
    rates: dict[tuple[int, int], dict[str, float]] = {}
    for row in get_client().query(f'last_over_time({{__name__=~"snmp_if_(in|out)_bps", device_id=~"{selected}"}}'
                                  f'[{WINDOW}])'):
        labels = row["metric"]
        direction = labels["__name__"].removeprefix("snmp_if_").removesuffix("_bps")
        rates.setdefault((int(labels["device_id"]), int(labels["ifIndex"])), {})[direction] = float(row["value"][1])
    shown = []
    for device_id, if_index, _ in ranked:
        interface = interfaces.get((device_id, if_index))
        speed = {"speed": float(interface.speed_bps)} if interface and interface.speed_bps else {}
        name = (interface.name or interface.descr) if interface else ""
        shown.append(Busy(devices[device_id], name or f"ifIndex {if_index}",
                          {**rates.get((device_id, if_index), {}), **speed}))
    return shown


def _context(request: HttpRequest) -> dict:
    try:
        return {"interfaces": busiest_interfaces()}
    except VictoriaError:
        return {"unavailable": True}


def register_panels() -> None:
    """From SnmpConfig.ready()."""
    register(Panel("busiest-interfaces", "Busiest interfaces", "snmp/dashboard/busiest.html", _context, order=50,
                   permission="snmp.view_interface", lazy=True))
