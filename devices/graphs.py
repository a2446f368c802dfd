"""A device's graphs. Each app that writes series for devices registers what to draw of them (`register`, in its
AppConfig.ready: ICMP its RTT, loss and availability, SNMP its interfaces and items); `render` reads them from
VictoriaMetrics for a time range, with a step that keeps every series within MAX_POINTS points. An app above may
own some devices' graphs instead (`claim`: zabbix_bridge reads those Zabbix watches from Zabbix)."""
from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from devices.models import Device
from wardsite.exposition import escape_label_value
from wardsite.victoria import get_client

MAX_POINTS = 1000  # per series and graph: what a chart of a page's width can show
# VictoriaMetrics queries of one render in flight at once: a page asks ~15, each mostly waiting on VictoriaMetrics
QUERY_THREADS = 4
VICTORIA = "victoriametrics"  # the response's `source` when no app claims the device


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


@dataclass(frozen=True)
class InterfaceChoice:
    """An interface the page offers to draw alone: `name` is what Options.interface takes."""

    name: str
    descr: str = ""
    alias: str = ""


@dataclass(frozen=True)
class Claimed:
    """A device's graphs as the app owning them read them: render's `graphs` (chart(...) each), and what a reader
    should know (e.g. that the host is gone from its source)."""

    graphs: list[dict]
    note: str | None = None


class GraphsUnavailable(Exception):
    """The app that owns a device's graphs cannot read them now; `str()` says why (the API answers 503)."""


GraphSource = Callable[[Device, Options], list[Graph]]
InterfaceSource = Callable[[Device], list[InterfaceChoice]]
# (device, start, end, options) -> its graphs, or None for a device the app does not own
ClaimingSource = Callable[[Device, float, float, Options], Claimed | None]


@dataclass(frozen=True)
class _Source:
    order: int
    graphs: GraphSource
    interfaces: InterfaceSource | None


_sources: list[_Source] = []
_claims: dict[str, ClaimingSource] = {}


def register(source: GraphSource, order: int, interfaces: InterfaceSource | None = None) -> None:
    """Add a source of graphs (once per app, from its AppConfig.ready); lower `order` first on the page;
    `interfaces` lists what the page may pick for Options.interface."""
    if all(known.graphs is not source for known in _sources):
        _sources.append(_Source(order, source, interfaces))
        _sources.sort(key=lambda known: known.order)


def claim(name: str, source: ClaimingSource) -> None:
    """Let an app own some devices' graphs (from its AppConfig.ready): the first claim answering not None is drawn
    alone, and `name` is the response's `source`."""
    _claims[name] = source


def selector(metric: str, device: Device, **labels: str) -> str:
    """`metric{device_id="…", label="…"}` with the values escaped."""
    pairs = {"device_id": str(device.pk), **labels}
    return metric + "{" + ", ".join(f'{k}="{escape_label_value(v)}"' for k, v in pairs.items()) + "}"


def step_for(seconds: float) -> int:
    """The step (whole seconds, at least 1) that gives at most MAX_POINTS points over `seconds`."""
    return max(1, math.ceil(seconds / MAX_POINTS))


def chart(key: str, title: str, unit: str, series: list[dict]) -> dict:
    """One graph as render answers it; `series` are {"label", "points": [[time, value], ...]}."""
    return {"key": key, "title": title, "unit": unit, "series": series}


def graphs_for(device: Device, options: Options | None = None) -> list[Graph]:
    options = options or Options()
    return [graph for source in _sources for graph in source.graphs(device, options)]


def interfaces_for(device: Device) -> list[InterfaceChoice]:
    return [choice for source in _sources if source.interfaces for choice in source.interfaces(device)]


def render(device: Device, start: float, end: float, options: Options | None = None) -> dict:
    """Every graph of the device between `start` and `end` (Unix seconds): its series as [[time, value], ...], where
    they came from, and the interfaces the page may pick. VictoriaError when VictoriaMetrics cannot be read,
    GraphsUnavailable when the app owning the device's graphs cannot read them."""
    options = options or Options()
    body = {"start": start, "end": end, "step": step_for(end - start)}
    for name, source in _claims.items():
        claimed = source(device, start, end, options)
        if claimed is not None:
            return {**body, "source": name, "note": claimed.note, "interfaces": [], "graphs": claimed.graphs}
    return {**body, "source": VICTORIA, "note": None,
            "interfaces": [asdict(choice) for choice in interfaces_for(device)],
            "graphs": _read_victoria(graphs_for(device, options), start, end, body["step"])}


def _read_victoria(graphs: list[Graph], start: float, end: float, step: int) -> list[dict]:
    """Each graph's series, its lines queried QUERY_THREADS at a time; the first failed query (in the page's order)
    raises, and the queries not started yet are dropped."""
    client = get_client()
    lines = [(graph, line) for graph in graphs for line in graph.lines]
    with ThreadPoolExecutor(max_workers=max(1, min(QUERY_THREADS, len(lines)))) as pool:
        # map answers in order, re-raises a query's error and cancels what has not started
        answers = list(pool.map(lambda pair: client.query_range(pair[1].expr, start, end, step), lines))
    shown = {id(graph): chart(graph.key, graph.title, graph.unit, []) for graph in graphs}
    for (graph, line), rows in zip(lines, answers):
        for row in rows:
            name = row["metric"].get(graph.legend, "") if graph.legend else ""
            shown[id(graph)]["series"].append({"label": f"{line.label} {name}".strip(),
                                               "points": [[float(t), float(v)] for t, v in row["values"]]})
    return list(shown.values())
