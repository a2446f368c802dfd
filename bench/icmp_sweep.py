"""Benchmark one ping cycle (count=1) of icmp.pinger against fping -i1 and icmplib's async_multiping.

Targets: 1,000 and 4,000 loopback addresses (127.1.x.y...; every one answers, so any 'dead' is
false) and a /24 of a private test namespace (tests/netns.py layout: 10 answering hosts, the rest
silent or ICMP-dropping). Needs root (raw sockets, namespaces). Example:
    .venv/bin/python bench/icmp_sweep.py --repeat 3
"""
from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from icmplib import async_multiping  # noqa: E402

from icmp.pinger import DEFAULT_RATE, ping_many  # noqa: E402
from tests.netns import NetnsUnavailable, TestNetwork  # noqa: E402
from arguments import at_least  # noqa: E402

Prober = Callable[[list[str]], set[str]]  # targets -> the ones reported alive


def loopback(n: int) -> list[str]:
    return [f"127.{1 + i // 62500}.{(i // 250) % 250}.{i % 250 + 1}" for i in range(n)]


def ours(timeout: float, rate: int) -> Prober:
    def probe(targets: list[str]) -> set[str]:
        results = ping_many(targets, count=1, timeout=timeout, rate=rate)
        return {a for a, r in results.items() if r.is_alive}
    return probe


def fping(timeout: float) -> Prober:
    def probe(targets: list[str]) -> set[str]:
        command = ["fping", "-i", "1", "-r", "0", "-t", str(round(timeout * 1000)), "-a", "-f", "-"]
        done = subprocess.run(command, input="\n".join(targets), capture_output=True, text=True, check=False)
        return set(done.stdout.split())
    return probe


def icmplib_multiping(timeout: float) -> Prober:
    def probe(targets: list[str]) -> set[str]:
        hosts = asyncio.run(async_multiping(targets, count=1, timeout=timeout,
                                            concurrent_tasks=len(targets), privileged=True))
        return {h.address for h in hosts if h.is_alive}
    return probe


def measure(label: str, tool: str, probe: Prober, targets: list[str], expected: set[str], repeat: int) -> float:
    """Run `probe` `repeat` times; print median seconds and the worst counts; return the median."""
    seconds, alive, false_dead, false_alive = [], [], [], []
    for _ in range(repeat):
        start = time.perf_counter()
        found = probe(targets)
        seconds.append(time.perf_counter() - start)
        alive.append(len(found))
        false_dead.append(len(expected - found))
        false_alive.append(len(found - expected))
    median = statistics.median(seconds)
    print(f"{label:<28} {tool:<26} {median:8.3f} {min(alive):7d} {max(false_dead):10d} {max(false_alive):11d}",
          end="", flush=True)
    return median


def compare(label: str, targets: list[str], expected: set[str], args: argparse.Namespace) -> None:
    """Ours beside fping -i1 on the same targets, in the same run."""
    mine = measure(label, f"icmp.pinger rate={args.rate}", ours(args.timeout, args.rate), targets, expected,
                   args.repeat)
    print()
    theirs = measure(label, "fping -i1 -r0", fping(args.timeout), targets, expected, args.repeat)
    print(f"   ours/fping = {mine / theirs:.2f}")


def netns_rows(args: argparse.Namespace) -> None:
    try:
        net = TestNetwork.create(prefix=args.prefix)
    except NetnsUnavailable as exc:
        print(f"(namespace /24 skipped: {exc})")
        return
    try:
        targets = [f"{args.prefix}.{i}" for i in range(2, 255)]  # .1 is our own end of the veth
        net.verify_route(*targets)  # nothing may leave by the default route
        compare(f"{len(targets)} netns /24 ({len(net.answering)} live)", targets, set(net.answering), args)
    finally:
        net.destroy()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=at_least(1), nargs="+", default=[1000, 4000], help="loopback target counts")
    parser.add_argument("--timeout", type=at_least(0.01, float), default=1.0,
                        help="reply timeout, seconds (default 1.0)")
    parser.add_argument("--rate", type=at_least(1), default=DEFAULT_RATE,
                        help=f"our packets/s (default {DEFAULT_RATE})")
    parser.add_argument("--repeat", type=at_least(1), default=3, help="runs per row; median time, worst counts")
    parser.add_argument("--prefix", default="203.0.113", help="the namespace /24 (default 203.0.113, "
                        "so a concurrent test run on 198.51.100 is not disturbed)")
    parser.add_argument("--icmplib-size", type=at_least(0), default=4000,
                        help="async_multiping baseline size (0: skip)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    # icmplib opens one raw socket per host in flight
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print(f"one cycle, count=1, timeout={args.timeout}s, median of {args.repeat}; false counts are the worst run")
    print(f"{'targets':<28} {'tool':<26} {'seconds':>8} {'alive':>7} {'false-dead':>10} {'false-alive':>11}")
    for n in args.sizes:
        targets = loopback(n)
        compare(f"{n} loopback", targets, set(targets), args)
    netns_rows(args)
    if args.icmplib_size:
        targets = loopback(args.icmplib_size)
        measure(f"{len(targets)} loopback", "icmplib async_multiping", icmplib_multiping(args.timeout),
                targets, set(targets), args.repeat)
        print("   (privileged=True, all in flight)")


if __name__ == "__main__":
    main()
