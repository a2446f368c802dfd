"""What a device's page draws of SNMP (devices.graphs): the traffic, errors and discards of its busiest interfaces
(the BUSIEST most over the range, in each direction) or of one asked for by name, and every item with a numeric
series (CPU, memory, temperatures… from its templates); the interfaces the page may pick among."""
from __future__ import annotations

from devices.graphs import Graph, InterfaceChoice, Line, Options, selector
from devices.models import Device
from snmp.choices import ValueType

BUSIEST = 5  # interfaces drawn per direction when none is asked for (the page's picker says "busiest 5")
# graph key, title, unit, the in and out series (per interface)
INTERFACE_GRAPHS = (
    ("traffic", "Interface traffic", "bit/s", "snmp_if_in_bps", "snmp_if_out_bps"),
    ("errors", "Interface errors", "/s", "snmp_if_in_errors_per_second", "snmp_if_out_errors_per_second"),
    ("discards", "Interface discards", "/s", "snmp_if_in_discards_per_second", "snmp_if_out_discards_per_second"),
)


def device_graphs(device: Device, options: Options) -> list[Graph]:
    if not device.snmp_enabled:
        return []
    return [*_interface_graphs(device, options.interface), *_item_graphs(device)]


def device_interfaces(device: Device) -> list[InterfaceChoice]:
    """The polled interfaces with a name (their series are labelled by it), in ifIndex order."""
    if not device.snmp_enabled:
        return []
    rows = device.interfaces.filter(enabled=True).exclude(name="").values_list("name", "descr", "alias")
    return [InterfaceChoice(*row) for row in rows]


def _interface_graphs(device: Device, interface: str) -> list[Graph]:
    labels = {"ifName": interface} if interface else {}
    graphs = []
    for key, title, unit, inbound, outbound in INTERFACE_GRAPHS:
        lines = []
        for direction, metric in (("in", inbound), ("out", outbound)):
            expr = f"avg_over_time({selector(metric, device, **labels)})"
            lines.append(Line(direction, expr if interface else f"topk_avg({BUSIEST}, {expr})"))
        graphs.append(Graph(key, f"{title}: {interface}" if interface else title, unit, tuple(lines), legend="ifName"))
    return graphs


def _item_graphs(device: Device) -> list[Graph]:
    items = device.snmp_items.filter(enabled=True).exclude(value_type=ValueType.STRING).order_by("name")
    return [Graph(f"item-{item.pk}", item.name, item.units,
                  (Line(item.name, f"avg_over_time({selector(item.metric, device, **item.labels)})"),))
            for item in items]
