"""Benchmark the ICMP stage of a discovery scan (discovery.scanner.sweep: one echo request per address, paced to
the rule's rate) beside fping sweeping the same range with the same pacing and timeout, in the same run.

Targets: a /22 of a private test namespace (tests/netns.py, routed: the root namespace reaches it through one
gateway, so the silent addresses do not fill the kernel's neighbour table, shared with concurrent test runs):
10 answering hosts, 10 that drop ICMP, the rest silent. The /30 at its start links the namespace and is not
swept. Figures only, no pass or fail; the goal is ours/fping within 1.5. Needs root. Example:
    .venv/bin/python bench/discovery_sweep.py --repeat 5
"""
from __future__ import annotations

import argparse
import ipaddress
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wardsite.settings")

import tests.bootstrap  # noqa: E402,F401  (per-run keys, as for the tests; sweep() reads no database)
from tests.netns import NetnsUnavailable, TestNetwork  # noqa: E402
from arguments import at_least  # noqa: E402

Prober = Callable[[list[str]], set[str]]  # targets -> the ones reported alive
Runs = dict[str, tuple[list[float], list[set[str]]]]  # tool -> (seconds, addresses found alive) of each run
PLAN_ADDRESSES, PLAN_SECONDS = 1000, 300  # the plan: "1,000 IPs in under 5 minutes"


def ours(timeout: float, rate: int) -> Prober:
    from discovery.scanner import sweep

    def probe(targets: list[str]) -> set[str]:
        return {address for address, rtt in sweep(targets, rate=rate, timeout=timeout).items() if rtt is not None}
    return probe


def fping(first: str, last: str, timeout: float, interval_ms: int) -> Prober:
    def probe(targets: list[str]) -> set[str]:
        command = ["fping", "-g", first, last, "-r", "0", "-t", str(round(timeout * 1000)), "-i", str(interval_ms),
                   "-a"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode > 1:  # 1: some were unreachable, as expected
            raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()}")
        return set(done.stdout.split())
    return probe


def measure(probes: dict[str, Prober], targets: list[str], repeat: int) -> Runs:
    """Each prober `repeat` times, taking turns so both see the same conditions."""
    runs: Runs = {label: ([], []) for label in probes}
    for _ in range(repeat):
        for label, probe in probes.items():
            start = time.perf_counter()
            found = probe(targets)
            runs[label][0].append(time.perf_counter() - start)
            runs[label][1].append(found)
    return runs


def report(runs: Runs, targets: list[str], expected: set[str], args: argparse.Namespace) -> None:
    print(f"{'tool':<40} {'median s':>9} {'min s':>7} {'max s':>7} {'alive':>9} {'false-dead':>10} "
          f"{'false-alive':>11}")
    medians = {}
    for label, (seconds, found) in runs.items():
        medians[label] = statistics.median(seconds)
        alive = sorted({len(f) for f in found})
        print(f"{label:<40} {medians[label]:9.3f} {min(seconds):7.3f} {max(seconds):7.3f} "
              f"{'/'.join(map(str, alive)):>9} {max(len(expected - f) for f in found):10d} "
              f"{max(len(f - expected) for f in found):11d}")
    mine, theirs = medians.values()
    print(f"ours/fping = {mine / theirs:.2f} (goal: within 1.5)")
    fixed = mine - len(targets) / args.rate  # the last timeout and overhead, whatever the number of addresses
    per_plan = PLAN_ADDRESSES / args.rate + fixed
    print(f"extrapolated: the ICMP stage of {PLAN_ADDRESSES:,} addresses takes ~{per_plan:.1f} s at {args.rate}/s "
          f"({PLAN_ADDRESSES / args.rate:.1f} s sending + {fixed:.1f} s timeout and overhead), "
          f"{per_plan / PLAN_SECONDS:.1%} of the plan's {PLAN_SECONDS} s for 1,000 IPs;\n  a scan's probes come on "
          f"top (SNMP on what answered, TCP ports on the silent addresses only if the rule names ports).")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prefix", default="198.18.4", help="first three octets of the network (default 198.18.4, "
                        "in 198.18.0.0/15, the benchmarking range; the tests use 198.51.100 and 203.0.113)")
    parser.add_argument("--prefix-len", type=int, default=22, help="its length (default 22: 1,019 addresses swept)")
    parser.add_argument("--timeout", type=at_least(0.01, float), default=1.0,
                        help="reply timeout per packet, seconds (default 1.0)")
    parser.add_argument("--interval-ms", type=at_least(1), default=1,
                        help="fping -i; ours sweeps at the same rate, 1000/interval per second (default 1: 1000/s, "
                             "DISCOVERY_RATE_LIMIT's default)")
    parser.add_argument("--repeat", type=at_least(1), default=5,
                        help="runs per tool, taking turns; median time, worst counts")
    args = parser.parse_args()
    args.rate = round(1000 / args.interval_ms)
    return args


def main() -> None:
    args = parse_args()
    import django

    django.setup()
    try:
        net = TestNetwork.create(args.prefix, prefix_len=args.prefix_len, suffix="-dsw", routed=True)
    except NetnsUnavailable as exc:
        raise SystemExit(f"namespace unavailable: {exc}") from None
    try:
        network = ipaddress.ip_network(net.network)
        targets = [str(a) for a in network.hosts()][3:]  # the /30 at the start is the link to the namespace
        net.verify_route(*targets)  # nothing may leave by the default route
        expected = set(net.answering)
        print(f"{net.network} routed into namespace {net.name}: {len(targets)} addresses swept "
              f"({targets[0]} - {targets[-1]}), {len(expected)} answering, {len(net.dropping)} dropping ICMP, "
              f"the rest silent; count=1, timeout={args.timeout}s, {args.rate} packets/s, {args.repeat} runs each")
        runs = measure({
            f"discovery.scanner.sweep rate={args.rate}": ours(args.timeout, args.rate),
            f"fping -g -r0 -t{round(args.timeout * 1000)} -i{args.interval_ms}":
                fping(targets[0], targets[-1], args.timeout, args.interval_ms),
        }, targets, args.repeat)
        report(runs, targets, expected, args)
    finally:
        net.destroy()


if __name__ == "__main__":
    main()
