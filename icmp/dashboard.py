"""ICMP's panel of the dashboard (wardsite/dashboard.py): the devices with the most loss and the highest RTT over the
last minutes, from VictoriaMetrics (sustained, not one cycle's luck). A device down all that time is in the down
count of the devices' panel, not here."""
from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest
from django.urls import reverse

from devices.models import Device
from wardsite.dashboard import Panel, register
from wardsite.numbers import LOSS_DECIMALS, RTT_DECIMALS, readable
from wardsite.victoria import VictoriaError, get_client

WORST = 10  # devices per list
WINDOW = "15m"
_EXTRA = 10  # asked for beyond WORST: series of devices deleted since still answer for a while
CACHE_KEY, CACHE_SECONDS = "dashboard:worst-devices", 15


@dataclass(frozen=True)
class Worst:
    device: Device
    value: str

    @property
    def url(self) -> str:
        return reverse("admin:devices_device_change", args=[self.device.pk])


def worst(expr: str, decimals: int) -> list[Worst]:
    """The devices of the top series of `expr` (labelled device_id), highest first; raises VictoriaError."""
    rows = get_client().query(f"topk({WORST + _EXTRA}, {expr})")
    values = sorted(((int(row["metric"]["device_id"]), float(row["value"][1])) for row in rows
                     if row["metric"].get("device_id", "").isdigit()), key=lambda pair: -pair[1])
    devices = Device.objects.in_bulk([device_id for device_id, _ in values])
    return [Worst(devices[device_id], readable(value, decimals)) for device_id, value in values
            if device_id in devices][:WORST]


def _ranked() -> dict[str, list[Worst]]:
    return {"lossy": worst(f"avg_over_time(ping_packet_loss[{WINDOW}]) > 0 < 100", LOSS_DECIMALS),
            "slow": worst(f"avg_over_time(ping_rtt_ms[{WINDOW}])", RTT_DECIMALS)}


def _context(request: HttpRequest) -> dict:
    try:  # the same for everyone: ranking 10,000 devices' series takes VictoriaMetrics ~250 ms, once per CACHE_SECONDS
        return {"window": WINDOW, **cache.get_or_set(CACHE_KEY, _ranked, CACHE_SECONDS)}
    except VictoriaError:
        return {"window": WINDOW, "unavailable": True}


def register_panels() -> None:
    """From IcmpConfig.ready()."""
    register(Panel("worst-devices", "Worst devices", "icmp/dashboard/worst.html", _context, order=40,
                   permission="icmp.view_pingstatus", lazy=True))
