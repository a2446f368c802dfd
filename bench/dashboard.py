"""Server time of the dashboard at fleet size: the admin index and each of its panels (as htmx refreshes them) with
10,000 devices in 20 groups, 80,000 interfaces and 1,000 firing alerts (bench/api_latency.py's fleet), 15 minutes
of ping series for every device and 5 minutes of traffic for every interface in VictoriaMetrics (the worst-devices
panel ranks them all there; the busiest-interfaces panel reads the ranking the polls keep, snmp.busiest).
In-process with Django's test client, one request at a time: wall time and CPU per request, p50/p95, beside
`GET /api/v1/` measured in the same run; the worst-devices panel (cached for everyone a few seconds) once more
without its cache. Printed, not asserted. Example:
    .venv/bin/python bench/dashboard.py --devices 10000 --requests 20
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from arguments import at_least  # noqa: E402
from stack import stack  # noqa: E402  (sets the environment first)


def write_series(device_ids: list[int], interfaces: int) -> int:
    """Every device's last 15 minutes of loss and RTT (each minute) and every interface's last 5 minutes of traffic
    ranked as the polls rank them (snmp.busiest); how many samples."""
    from snmp import busiest
    from wardsite.victoria import Sample, get_client

    now, client, written = int(time.time()), get_client(), 0
    for start in range(0, len(device_ids), 500):
        samples = []
        for device_id in device_ids[start:start + 500]:
            labels = {"device_id": str(device_id), "device": f"d{device_id}"}
            samples += [Sample(metric, labels, (device_id * factor) % modulo, (now - ago) * 1000)
                        for ago in range(0, 900, 60)
                        for metric, factor, modulo in (("ping_packet_loss", 7, 40), ("ping_rtt_ms", 13, 97))]
            for n in range(1, interfaces + 1):
                iface = {**labels, "ifIndex": str(n), "ifName": f"Gi0/{n}"}
                samples += [Sample(metric, iface, value, (now - ago) * 1000) for ago in range(60, 360, 60)
                            for metric, value in (("snmp_if_in_bps", (device_id * n * 7919) % 1e9),
                                                  ("snmp_if_out_bps", (device_id * n * 104729) % 1e9))]
        written += client.write(samples)
        busiest.record(samples, now)
    client.flush()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=at_least(1), default=10_000)
    parser.add_argument("--requests", type=at_least(1), default=20)
    args = parser.parse_args()
    with stack():
        import api_latency
        from device_page import HEADER, logged_in_client, report_row
        from django.core.cache import cache

        from icmp import dashboard as icmp_dashboard
        from wardsite import dashboard

        ids = api_latency.build_fleet(args.devices, 8, 1000)
        began = time.perf_counter()
        samples = write_series(ids, 8)
        print(f"fleet: {args.devices:,} devices, {args.devices * 8:,} interfaces, 1,000 firing alerts; "
              f"{samples:,} samples written in {time.perf_counter() - began:.0f} s; "
              f"{args.requests} requests each, one at a time, in-process")
        client, user = logged_in_client()
        request = type("Request", (), {"user": user})()
        rows = [("baseline: GET /api/v1/", "/api/v1/", True), ("admin index (the whole dashboard)", "/admin/", True),
                *((f"panel {panel.name}", f"/admin/dashboard/{panel.name}/", True)
                  for panel in dashboard.visible(request)),
                ("panel worst-devices, not cached", "/admin/dashboard/worst-devices/", False)]
        print(HEADER)
        baseline, cached = None, icmp_dashboard.CACHE_SECONDS
        for name, path, caching in rows:
            icmp_dashboard.CACHE_SECONDS = cached if caching else 0  # 0: Django's cache keeps nothing
            if not caching:
                cache.delete(icmp_dashboard.CACHE_KEY)
            p50 = report_row(client, name, path, args.requests, baseline)
            baseline = baseline or p50


if __name__ == "__main__":
    main()
