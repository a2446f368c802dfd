"""CPU of one ICMP collection cycle per device, `icmp.services.run_cycle` (load the batch, ping, save statuses and
states, write the series), beside its pinging alone (`icmp.services.ping_devices`, same devices, same run): what
the bookkeeping around the pinger costs. Steady state: the devices are up already, as in every cycle but the first
(printed apart: every device goes from unknown to up, a state change each).

Real PostgreSQL (a database made for the run), Redis (database 10) and VictoriaMetrics; devices on loopback
(every 127.x answers), the default packet settings (3 packets). The goal is at most 0.3 ms of CPU per device per
cycle (issue 16). Example:
    .venv/bin/python bench/icmp_cycle.py --devices 1000,4000
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from arguments import at_least, sizes  # noqa: E402
from stack import machine_speed, stack  # noqa: E402  (sets the environment first)


def cpu_ms_per_device(run: Callable[[], object], devices: int, repeat: int) -> float:
    """Median CPU milliseconds per device of `repeat` runs of `run`, in this process."""
    figures = []
    for _ in range(repeat):
        started = time.process_time()
        run()
        figures.append((time.process_time() - started) * 1000 / devices)
    return statistics.median(figures)


def dispatch(ids: list[int]) -> float:
    """The dispatcher's claim of the devices, all due (icmp.services.due_batches: what the worker of the dispatch
    queue does for each device each cycle before its batch runs); its CPU seconds."""
    from django.utils import timezone

    from icmp import services
    from icmp.models import PingStatus

    now = timezone.now()
    PingStatus.objects.filter(device_id__in=ids).update(next_due_at=now)
    started = time.process_time()
    batches = services.due_batches(now)
    assert sum(len(batch) for _, batch in batches) == len(ids)
    return time.process_time() - started


def measure(count: int, repeat: int) -> tuple[float, float, float, float]:
    from devices.models import Device
    from icmp import services

    first = Device.objects.count()
    Device.objects.bulk_create([Device(name=f"bench-{first + i}", address=f"127.{60 + i // 62500}."
                                       f"{i // 250 % 250}.{1 + i % 250}") for i in range(count)])
    ids = list(Device.objects.order_by("-pk").values_list("pk", flat=True)[:count])
    first = cpu_ms_per_device(lambda: services.run_cycle(ids), count, 1)  # status rows made, all unknown -> up
    devices = list(Device.objects.filter(pk__in=ids).select_related("group"))
    pinging = cpu_ms_per_device(lambda: services.ping_devices(devices), count, repeat)
    cycle = cpu_ms_per_device(lambda: services.run_cycle(ids), count, repeat)
    claim = statistics.median(dispatch(ids) for _ in range(repeat)) * 1000 / count
    Device.objects.filter(pk__in=ids).delete()
    return pinging, cycle, first, claim


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=sizes, default="1000,4000", help="comma-separated batch sizes")
    parser.add_argument("--repeat", type=at_least(1), default=3, help="cycles measured per size (median)")
    args = parser.parse_args()
    with stack():
        print(f"this machine: {machine_speed()}")
        print(f"{'devices':>8} {'pinging ms/dev':>15} {'whole cycle ms/dev':>19} {'cycle/pinging':>14} "
              f"{'first cycle ms/dev':>19} {'dispatch ms/dev':>16}")
        for count in args.devices:
            pinging, cycle, first, claim = measure(count, args.repeat)
            print(f"{count:8,} {pinging:15.3f} {cycle:19.3f} {cycle / pinging:13.1f}x {first:19.3f} {claim:16.3f}")


if __name__ == "__main__":
    main()
