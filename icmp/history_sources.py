"""Who answers a device's ping history: an app above icmp may claim a device (e.g. zabbix_bridge for the devices
Zabbix watches), filling `history_sources` in its AppConfig.ready(); a device nobody claims reads VictoriaMetrics.

A source answers in the endpoint's shape: our metric names (`icmp.services.HISTORY_METRICS`) and units (RTT in
ms, loss in %, up 1/0), at most `points` per series, e.g. through `downsample`.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from devices.models import Device

Series = list[tuple[float, float]]  # (unix time, value), oldest first


@dataclass(frozen=True)
class History:
    """A device's ping series over a range, the percent of checks answered in it, and where they came from."""

    series: dict[str, Series]
    availability: float | None
    source: str  # "victoriametrics", "zabbix", ...
    note: str | None = None  # what a reader should know, e.g. which series the source has nothing for


class HistoryUnavailable(Exception):
    """The source that owns the device's history cannot be read now; `str()` says why (the API answers 502)."""


# Source name -> Callable[[device, window seconds, points], History | None]; the first that answers wins.
HistorySource = Callable[[Device, int, int], History | None]
history_sources: dict[str, HistorySource] = {}


def claimed_history(device: Device, seconds: int, points: int) -> History | None:
    """The history of the first source claiming the device, or None (then VictoriaMetrics has it)."""
    for source in history_sources.values():
        found = source(device, seconds, points)
        if found is not None:
            return found
    return None


def downsample(samples: Iterable[tuple[float, float]], till: float, seconds: int, points: int) -> Series:
    """Average the samples of [till - seconds, till] per step, in at most `points` steps ending at `till`, each point
    stamped with its step's end (as VictoriaMetrics stamps a point with the time it looks back from); empty steps
    are left out."""
    step = max(1, math.ceil(seconds / points))
    start = till - step * points  # <= till - seconds
    sums: dict[int, list[float]] = defaultdict(lambda: [0.0, 0])
    for t, value in samples:
        if till - seconds <= t <= till:
            acc = sums[max(1, math.ceil((t - start) / step))]  # 1..points
            acc[0] += value
            acc[1] += 1
    return [(start + index * step, total / count) for index, (total, count) in sorted(sums.items())]
