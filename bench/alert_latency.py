"""Time from a device going silent to its "Device down" webhook arriving, over repeated trials, with the default
settings (a ping cycle every 10 s of 3 packets with a 1 s timeout, down after 3 failed cycles, rules evaluated
every 10 s), beside a baseline measured in the same run: the same stack without the quick retry of a failed cycle
(ICMP_RETRY_SECONDS = the interval, as a plain schedule would do it).

Everything is real and set up as `make run` and docker-compose do it: PostgreSQL (a cluster made for the run),
Redis with their options (appendonly, noeviction, a maxmemory), VictoriaMetrics with their flags, the two Celery
workers and beat as they start them, a webhook receiver on loopback. The devices are hosts of a private test
namespace (tests/netns.py), silenced by removing their address, one device per trial (so none flaps), at a random
moment of its ping cycle. With `--fleet N`, N more devices are monitored meanwhile as bench/fleet.py monitors them
(ICMP every 30 s, SNMP every 60 s with 8 interfaces and a template). Needs root. Example:
    .venv/bin/python bench/alert_latency.py --trials 5 --fleet 10000
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stack import make_run, own_services, stack  # noqa: E402  (sets the environment first)

from fleet import populate, start, wait_all_up  # noqa: E402
from fleet_network import FleetNetwork  # noqa: E402
from snmp_lab import Agent  # noqa: E402

from tests.netns import NetnsUnavailable, TestNetwork  # noqa: E402
from tests.receivers import HTTPReceiver, running_http_receiver  # noqa: E402


def first(receiver: HTTPReceiver, device: str, state: str, after: float) -> float | None:
    """When the first webhook of this state for this device arrived after `after`; None if none has."""
    return next((r.at for r in receiver.requests if r.at > after and r.json()["state"] == state
                 and (r.json().get("device") or {}).get("name") == device), None)


def wait(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")


def failed_cycles(device, after: float) -> list[float]:
    """When the probes of each of `device`'s failed cycles after `after` went out (its ping_up samples of 0)."""
    from wardsite.victoria import get_client

    client = get_client()
    client.flush()
    response = requests.get(f"{client.read_url}/api/v1/export", timeout=30,
                            params={"match[]": f'ping_up{{device_id="{device.pk}"}}', "start": f"{after:.3f}"})
    response.raise_for_status()
    rows = [json.loads(line) for line in response.text.splitlines()]
    return sorted(t / 1000 for row in rows for t, v in zip(row["timestamps"], row["values"]) if v == 0)


def trial(net: TestNetwork, device, receiver: HTTPReceiver) -> tuple[float, float, float, float]:
    """Silence one device; (silent→webhook, silent→down, down→fired, fired→webhook) seconds. Prints when its failed
    cycles went out."""
    from alerts.models import Alert
    from devices.models import DeviceStateChange

    time.sleep(random.uniform(0, 10))  # a random moment of the ping cycle
    silent_at = time.time()
    net.silence(device.address)
    try:
        arrived = wait(lambda: first(receiver, device.name, "firing", silent_at), 120, f"{device.name} down webhook")
    finally:
        net.restore(device.address)
    down = DeviceStateChange.objects.filter(device=device, new="down").latest("at").at.timestamp()
    fired = Alert.objects.get(device=device, rule__builtin="device-down").triggered_at.timestamp()
    wait(lambda: first(receiver, device.name, "resolved", silent_at), 120, f"{device.name} resolved webhook")
    print("    failed cycles went out at " + ", ".join(f"+{t - silent_at:.2f}" for t in failed_cycles(device, silent_at)
                                                  if t < down) + f" s; down at +{down - silent_at:.2f} s", flush=True)
    return arrived - silent_at, down - silent_at, fired - down, arrived - fired


def start_processes(env: dict[str, str], work: Path) -> list[subprocess.Popen]:
    """The workers and beat of `make run` (no web: nobody asks it anything here), logs in `work`."""
    work.mkdir(exist_ok=True)
    return [start(command, work / f"{name.replace(' ', '-')}.log", "INFO", env)
            for name, command in make_run.processes(0, work / "beat-schedule").items() if name != "web"]


def run_config(label: str, env: dict[str, str], devices, net: TestNetwork, receiver: HTTPReceiver, work: Path,
               fleet: int) -> list:
    from devices.models import Device

    processes = start_processes(env, work / label)
    try:
        if fleet:
            wait_all_up(fleet + len(net.answering), work)
            time.sleep(30)  # into the fleet's steady state
        wait(lambda: not Device.objects.filter(pk__in=[d.pk for d in devices]).exclude(state="up").exists(), 120,
             "the devices to be up")
        results = []
        for number, device in enumerate(devices, 1):
            results.append(trial(net, device, receiver))
            print(f"  {label} trial {number}: {results[-1][0]:.1f} s", flush=True)
        return results
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=5, choices=range(1, 6), help="trials per configuration (1-5)")
    parser.add_argument("--fleet", type=int, default=0, help="devices monitored meanwhile (as bench/fleet.py)")
    args = parser.parse_args()

    try:
        net = TestNetwork.create()
    except NetnsUnavailable as exc:
        raise SystemExit(f"cannot build the test namespace: {exc}") from None
    fleet = FleetNetwork(args.fleet, 0)
    try:
        with running_http_receiver() as receiver, own_services(), stack() as (work, _):
            from django.conf import settings

            from alerts.models import AlertRule, NotificationChannel
            from devices.models import Device

            hook = NotificationChannel.objects.create(name="bench", kind="webhook", settings={"url": receiver.url})
            AlertRule.objects.get(builtin="device-down").channels.add(hook)
            hosts = [Device.objects.create(name=f"bench-{a.rsplit('.', 1)[1]}", address=a) for a in net.answering]
            interval = str(settings.ICMP_INTERVAL_SECONDS)
            configs = [("ours", {}, hosts[:args.trials]),
                       ("baseline", {"ICMP_RETRY_SECONDS": interval}, hosts[5:5 + args.trials])]
            print(f"alert latency: device silent -> 'Device down' webhook, {args.trials} trials each "
                  f"(ICMP every {interval} s, {settings.ICMP_PACKETS} packets, timeout {settings.ICMP_TIMEOUT_MS} "
                  f"ms, down after {settings.ICMP_DOWN_AFTER}, evaluation every {settings.ALERT_EVALUATION_SECONDS} s)")
            if args.fleet:
                fleet.build()
                populate(fleet)
                agent = Agent(work, fleet.answering[0], netns=fleet.name)
                print(f"with {args.fleet:,} more devices monitored (bench/fleet.py's fleet)")
            try:
                results = {label: run_config(label, env, devices, net, receiver, work, args.fleet)
                           for label, env, devices in configs}
            finally:
                if args.fleet:
                    agent.stop()
    finally:
        net.destroy()
        fleet.destroy()
    report(results, {"ours": f"ours (retry after {settings.ICMP_RETRY_SECONDS} s)",
                     "baseline": f"baseline (retry after {interval} s)"})


def report(results: dict[str, list[tuple[float, float, float, float]]], names: dict[str, str]) -> None:
    print(f"\n{'':28} {'median':>8} {'max':>8}   medians: silent->down  down->fired  fired->webhook")
    for label, rows in results.items():
        totals = [row[0] for row in rows]
        parts = [statistics.median(row[i] for row in rows) for i in (1, 2, 3)]
        print(f"{names[label]:28} {statistics.median(totals):7.1f}s {max(totals):7.1f}s   "
              f"{parts[0]:12.1f}s {parts[1]:11.1f}s {parts[2]:13.2f}s")
    ours, base = (statistics.median(r[0] for r in results[k]) for k in ("ours", "baseline"))
    worst = max(r[0] for r in results["ours"])
    print(f"ratio ours/baseline (median): {ours / base:.2f}; goal <= 30 s: {'met' if worst <= 30 else 'MISSED'} "
          f"(max {worst:.1f} s); stretch <= 15 s: {'met' if ours <= 15 else 'missed'} (median {ours:.1f} s)"
          f"  [{datetime.now():%Y-%m-%d %H:%M}]")


if __name__ == "__main__":
    main()
