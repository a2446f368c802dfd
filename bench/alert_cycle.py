"""How long one evaluation cycle of every alert rule takes (it must fit in ALERT_EVALUATION_SECONDS, 10 s), for
many devices and rules, beside its floor measured in the same run: the time VictoriaMetrics takes to answer the
cycle's queries alone (the engine's own work is the rest).

Real PostgreSQL and VictoriaMetrics (bench/stack.py). Each device has CPU, ping RTT and uptime series and 4
interfaces; a few of them hold each rule's condition (2 % of CPUs hot, 1 % of interfaces down or with errors, 1 %
of devices silent), so alerts open, fire and stay firing. Rules mix
threshold, `for`, interface, `nodata` and rate conditions, scoped to every device (the worst case) besides the
shipped Device down rule and the default templates' rules (no template is applied, so they cost nothing). Example:
    .venv/bin/python bench/alert_cycle.py --devices 1000 --rules 100
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from arguments import at_least  # noqa: E402
from stack import stack  # noqa: E402  (sets the environment first)

EXPRESSIONS = (  # {n}: a threshold that differs per rule, so no two rules are the same query
    "last(cpu_usage) > {hot}", "avg(cpu_usage, 5m) > {hot} for 2m", "snmp_if_oper_status == 2",
    "nodata(snmp_uptime_seconds, {minutes}m)", "avg(ping_rtt_ms) > {slow}", "rate(snmp_if_in_errors_total) > {errors}",
)
INTERFACES = ("Gi0/1", "Gi0/2", "Gi0/3", "Gi0/4")
CYCLES = 4  # evaluated at now, +3 min, +6 min...: `for 2m` alerts fire in the second


def populate(devices: int, rules: int) -> int:
    """Devices, rules and ten minutes of samples; returns how many samples were written."""
    from django.utils import timezone

    from alerts.models import AlertRule
    from devices.models import Device
    from snmp.models import MonitoringItem
    from wardsite.victoria import Sample, get_client

    made = Device.objects.bulk_create(Device(name=f"edge-{i}", address=f"10.{i // 250}.{i % 250}.1",
                                             icmp_enabled=False) for i in range(devices))
    MonitoringItem.objects.create(device=made[0], name="cpu_usage", oid="1.3.6.1.4.1.9.9.109.1.1.1.1.8.1")
    for i in range(rules):
        AlertRule.objects.create(name=f"rule {i}", expression=EXPRESSIONS[i % len(EXPRESSIONS)].format(
            hot=90 + i % 9, minutes=5 + i % 5, slow=100 + i, errors=10 + i))
    now = timezone.now()
    samples = []
    for minute in range(-10, 3 * CYCLES + 1):  # up to the last cycle's time, so no series falls silent on its own
        ms = int((now + timedelta(minutes=minute)).timestamp() * 1000)
        for n, device in enumerate(made):
            labels = {"device_id": str(device.pk), "device": device.name}
            samples += [Sample("cpu_usage", labels, 97.0 if n % 50 == 0 else 20.0, ms),  # 2 % hot
                        Sample("ping_rtt_ms", labels, 1.0 + n % 7, ms),
                        Sample("device_up", labels, 1.0, ms)]
            if n % 100:  # 1 % of the devices' SNMP is silent: nodata
                samples.append(Sample("snmp_uptime_seconds", labels, 100_000.0 + 60 * minute, ms))
            for k, name in enumerate(INTERFACES):
                ifl = {**labels, "ifName": name, "ifIndex": str(k + 1)}
                errors = (minute + 10) * 6000.0 if (n + k) % 100 == 1 else 0.0  # 1 %: 100 errors/s
                samples += [Sample("snmp_if_oper_status", ifl, 2.0 if (n + k) % 100 == 0 else 1.0, ms),  # 1 % down
                            Sample("snmp_if_in_errors_total", ifl, errors, ms)]
    client = get_client()
    client.write(samples)
    client.flush()
    return len(samples)


def cycles() -> tuple[list[float], list[float], int]:
    """Each cycle's seconds, the seconds its queries alone take, and how many distinct queries it asks."""
    from django.utils import timezone

    from alerts import engine
    from alerts.models import Alert, AlertRule

    seconds, floor = [], []
    start = timezone.now()
    for n in range(CYCLES):
        at = start + timedelta(minutes=3 * n)  # pending, then firing, then steady
        began = time.perf_counter()
        results = engine.evaluate_all(at)
        seconds.append(time.perf_counter() - began)
        if errors := [r.error for r in results if r.error]:
            raise SystemExit(f"{len(errors)} rules failed, e.g. {errors[0]}")
        includers, maintenance = engine.template_includers(), engine.Maintenance.at(at)
        queries = {q for rule in AlertRule.objects.filter(enabled=True)
                   for q in engine.plan_rule(rule, includers, maintenance).queries()}
        began = time.perf_counter()
        engine.ask(queries, at)
        floor.append(time.perf_counter() - began)
        print(f"  cycle {n + 1}: {seconds[-1]:.2f} s, its {len(queries)} queries alone {floor[-1]:.2f} s, "
              f"{Alert.objects.exclude(status='resolved').count()} alerts open", flush=True)
    return seconds, floor, len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=at_least(1), default=1000)
    parser.add_argument("--rules", type=at_least(1), default=100)
    args = parser.parse_args()
    with stack():
        from django.conf import settings

        from alerts.models import AlertRule

        written = populate(args.devices, args.rules)
        print(f"alert cycle: {args.devices} devices, {args.rules} rules on every device "
              f"({AlertRule.objects.count()} rules in all), {written} samples, {CYCLES} cycles")
        seconds, floor, queries = cycles()
        budget = settings.ALERT_EVALUATION_SECONDS
    steady, steady_floor = statistics.median(seconds[1:]), statistics.median(floor[1:])
    print(f"\nsteady cycle (median of cycles 2-{CYCLES}): {steady:.2f} s against {steady_floor:.2f} s for its queries "
          f"alone (ratio {steady / steady_floor:.1f}); {1000 * steady / args.rules:.1f} ms per rule; first cycle "
          f"{seconds[0]:.2f} s; within ALERT_EVALUATION_SECONDS ({budget} s): {'yes' if max(seconds) < budget else 'NO'}")


if __name__ == "__main__":
    main()
