"""What bench/fleet.py measures from outside the stack: CPU and memory of process trees (/proc), Celery queue
depths (LLEN), WARD FLUX's /metrics page and sample timestamps in VictoriaMetrics."""
from __future__ import annotations

import json
import threading
import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from snmp_lab import cpu_seconds


def parents() -> dict[int, int]:
    """Every process's parent, now."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                pass
    return found


def tree(pid: int, parent_of: dict[int, int]) -> list[int]:
    """`pid` and its descendants."""
    found, frontier = [pid], [pid]
    while frontier:
        frontier = [child for child, parent in parent_of.items() if parent in frontier]
        found += frontier
    return found


def _status_kb(pid: int, field_name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


def _pss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


@dataclass
class Usage:
    """CPU seconds of a process tree (the root's reaped children included) and its memory peaks."""

    cpu_start: float = 0.0
    cpu_end: float = 0.0
    peak_pss_kb: int = 0  # the tree's summed PSS, sampled every second (shared pages counted once)
    peak_hwm_kb: int = 0  # the largest VmHWM of one process of the tree


def tree_cpu(pid: int) -> float:
    total = 0.0
    for member in tree(pid, parents()):
        try:
            total += cpu_seconds(member, children=member == pid)
        except OSError:
            pass
    return total


@dataclass
class Sampler:
    """Every second: the memory of each process tree and the depth of each Celery queue."""

    roots: dict[str, int]
    redis_url: str
    queues: tuple[str, ...]
    usage: dict[str, Usage] = field(default_factory=dict)
    peak_depth: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    peak_total_depth: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.usage = {name: Usage(cpu_start=tree_cpu(pid)) for name, pid in self.roots.items()}
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import redis

        broker = redis.Redis.from_url(self.redis_url)
        while not self._stop.wait(1.0):
            parent_of = parents()
            for name, pid in self.roots.items():
                pss, hwm = 0, 0
                for member in tree(pid, parent_of):
                    try:
                        pss += _pss_kb(member)
                        hwm = max(hwm, _status_kb(member, "VmHWM"))
                    except OSError:
                        pass
                self.usage[name].peak_pss_kb = max(self.usage[name].peak_pss_kb, pss)
                self.usage[name].peak_hwm_kb = max(self.usage[name].peak_hwm_kb, hwm)
            depths = {queue: broker.llen(queue) for queue in self.queues}
            for queue, depth in depths.items():
                self.peak_depth[queue] = max(self.peak_depth[queue], depth)
            self.peak_total_depth = max(self.peak_total_depth, sum(depths.values()))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        for name, pid in self.roots.items():
            self.usage[name].cpu_end = tree_cpu(pid)


# --- figures from outside: the metrics page, VictoriaMetrics -----------------------------------------------

def scrape(url: str, token: str | None = None) -> dict[str, float]:
    """A Prometheus text page as {'name{labels}': value}."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        lines = response.read().decode().splitlines()
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in lines
            if line and not line.startswith("#")}


def export(victoria_url: str, metric: str, start: float, end: float) -> dict[tuple[str, int], list[float]]:
    """Sample timestamps (seconds) per device (name, id) of `metric` between start and end, from /api/v1/export."""
    urllib.request.urlopen(f"{victoria_url}/internal/force_flush", timeout=30).close()
    url = f"{victoria_url}/api/v1/export?match[]={metric}&start={start:.3f}&end={end:.3f}"
    series: dict[tuple[str, int], list[float]] = defaultdict(list)
    with urllib.request.urlopen(url, timeout=120) as response:
        for line in response:  # a series may come in several lines (one per stored block)
            row = json.loads(line)
            device = (row["metric"]["device"], int(row["metric"]["device_id"]))
            series[device] += (t / 1000 for t in row["timestamps"])
    return {device: sorted(times) for device, times in series.items()}


def lateness(series: dict[tuple[str, int], list[float]], interval: float, skip: set[str]) -> list[float]:
    """Each gap between consecutive samples of a device minus the interval (negative: early)."""
    return [b - a - interval for (name, _), times in series.items() if name not in skip
            for a, b in zip(times, times[1:])]


def after_slot(series: dict[tuple[str, int], list[float]], interval: float, skip: set[str]) -> list[float]:
    """How long after its device's slot (wardsite.dispatch.next_due) each sample was taken: actual - scheduled,
    the collection itself included (a sample is stamped when the answer came)."""
    from wardsite.dispatch import phase

    return [(t - phase(device_id)) % interval for (name, device_id), times in series.items() if name not in skip
            for t in times]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def task_durations(before: dict[str, float], after: dict[str, float], task: str) -> tuple[float, float, str, float]:
    """(runs, mean seconds, p99 bucket bound, CPU seconds) of a task between two /metrics scrapes."""
    def delta(key: str) -> float:
        return after.get(key, 0.0) - before.get(key, 0.0)

    runs = delta(f'wardflux_task_duration_seconds_count{{task="{task}"}}')
    mean = delta(f'wardflux_task_duration_seconds_sum{{task="{task}"}}') / runs if runs else float("nan")
    p99 = "-"
    for bound in ("0.1", "0.5", "1.0", "5.0", "10.0", "30.0", "60.0", "300.0", "+Inf"):
        if runs and delta(f'wardflux_task_duration_seconds_bucket{{le="{bound}",task="{task}"}}') >= 0.99 * runs:
            p99 = f"<= {bound} s"
            break
    return runs, mean, p99, delta(f'wardflux_task_cpu_seconds_total{{task="{task}"}}')
