"""A device's graphs. Each app that writes series for devices registers what to draw of them (`register`, in its
AppConfig.ready: ICMP its RTT, loss and availability, SNMP its interfaces and items); `render` reads them from
VictoriaMetrics for a time range, with a step that keeps every series within MAX_POINTS points."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from devices.models import Device
from wardsite.victoria import escape_label_value, get_client

MAX_POINTS = 1000  # per series and graph: what a chart of a page's width can show


@dataclass(frozen=True)
class Line:
    """One expression drawn on a graph; several series when it returns several (named by the graph's `legend`)."""

    label: str
    expr: str  # MetricsQL; a rollup without a window (avg_over_time(x)) takes the step as its window


@dataclass(frozen=True)
class Graph:
    """One chart: its lines share the time axis and the unit."""

    key: str
    title: str
    unit: str
    lines: tuple[Line, ...]
    legend: str = ""  # the label naming each series of a line that returns several (e.g. ifName)


@dataclass(frozen=True)
class Options:
    """What the page asked for beyond the range; a source reads what it knows."""

    interface: str = ""  # an interface by name (ifName) instead of the busiest ones


GraphSource = Callable[[Device, Options], list[Graph]]
_sources: list[tuple[int, GraphSource]] = []


def register(source: GraphSource, order: int) -> None:
    """Add a source of graphs (once per app, from its AppConfig.ready); lower `order` first on the page."""
    if all(known is not source for _, known in _sources):
        _sources.append((order, source))
        _sources.sort(key=lambda entry: entry[0])


def selector(metric: str, device: Device, **labels: str) -> str:
    """`metric{device_id="…", label="…"}` with the values escaped."""
    pairs = {"device_id": str(device.pk), **labels}
    return metric + "{" + ", ".join(f'{k}="{escape_label_value(v)}"' for k, v in pairs.items()) + "}"


def step_for(seconds: float) -> int:
    """The step (whole seconds, at least 1) that gives at most MAX_POINTS points over `seconds`."""
    return max(1, math.ceil(seconds / MAX_POINTS))


def graphs_for(device: Device, options: Options | None = None) -> list[Graph]:
    options = options or Options()
    return [graph for _, source in _sources for graph in source(device, options)]


def render(device: Device, start: float, end: float, options: Options | None = None) -> dict:
    """Every graph of the device between `start` and `end` (Unix seconds): its series as [[time, value], ...].
    VictoriaError when VictoriaMetrics cannot be read."""
    step = step_for(end - start)
    client, shown = get_client(), []
    for graph in graphs_for(device, options):
        series = []
        for line in graph.lines:
            for row in client.query_range(line.expr, start, end, step):
                name = row["metric"].get(graph.legend, "") if graph.legend else ""
                series.append({"label": f"{line.label} {name}".strip(),
                               "points": [[float(t), float(v)] for t, v in row["values"]]})
        shown.append({"key": graph.key, "title": graph.title, "unit": graph.unit, "series": series})
    return {"start": start, "end": end, "step": step, "graphs": shown}
