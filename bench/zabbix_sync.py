"""How long a sync of a real Zabbix 6.0 takes (goal: within 1.5x its floor and under 10 s), for many hosts each
with an open problem, beside its floor measured in the same run: the same data read by a plain loop of requests
(host.get with the client's selects, problem.get, event.get for the problems' hosts and acknowledgements).

Zabbix 6.0 as the tests start it (tests/zabbix_server.py: template database in the machine's PostgreSQL, frontend
under `php -S`, zabbix_server); our side a PostgreSQL database of its own (wardflux_bench_zabbix) in hybrid mode.
The hosts (in 4 host groups, agent interfaces on 127.1.x.y, tags, inventory) and their `icmpping` trapper items and
triggers are made in bulk through the API; one zabbix_sender file raises a problem on each. Both databases are
ANALYZEd (Zabbix's after the setup, ours between the syncs) as autovacuum does on a server in use. Printed: the
first sync (into an empty inventory) and a second one (nothing changed), their API calls, the ratio to the floor
and where the time goes (reading Zabbix, applying hosts and problems, device states). `--profile` runs both syncs
under cProfile (their times are then inflated) and prints the functions that cost the time. Example:
    .venv/bin/python bench/zabbix_sync.py --hosts 1000
"""
from __future__ import annotations

import argparse
import cProfile
import logging
import os
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stack  # noqa: E402  (the benches' environment: test keys, Redis database 10, settings module)

DATABASE = "wardflux_bench_zabbix"
os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DATABASE}"

import pytest  # noqa: E402  (tests/zabbix_server.py reports what keeps Zabbix from starting as pytest outcomes)
import requests  # noqa: E402

from arguments import at_least  # noqa: E402
from tests.zabbix_server import (TEST_DB, Zabbix, _interface, _postgres, prepare, running,  # noqa: E402
                                  sender_line)

GROUPS = ("bench-core", "bench-edge", "bench-access", "bench-dc")
CHUNK = 250  # objects per host.create / item.create / trigger.create
FLOOR_RUNS = 5
GOAL_RATIO, GOAL_SECONDS = 1.5, 10.0


@dataclass(frozen=True)
class BenchHost:
    hostid: str
    host: str
    triggerid: str


@dataclass
class Phases:
    """Seconds, SQL queries and API calls of one sync, by phase (timers wrapped around the sync's own pieces)."""

    seconds: Counter = field(default_factory=Counter)
    queries: Counter = field(default_factory=Counter)
    calls: Counter = field(default_factory=Counter)
    api_seconds: Counter = field(default_factory=Counter)
    active: list[str] = field(default_factory=list)


# --- Zabbix side --------------------------------------------------------------------------------------------------

def host_params(i: int, groupids: list[str]) -> dict[str, Any]:
    """host.create parameters of the i-th bench host."""
    site = f"dc{i % 3 + 1}"
    return {
        "host": f"bench-host-{i:05d}", "name": f"Bench host {i:05d}",
        "groups": [{"groupid": groupids[i % len(groupids)]}],
        "interfaces": [_interface("agent", f"127.1.{i // 250}.{i % 250 + 1}", None, {})],
        "tags": [{"tag": "site", "value": site}, {"tag": "role", "value": ("core", "edge", "access")[i % 3]}],
        "inventory_mode": 0,
        "inventory": {"vendor": "Cisco", "model": "ISR4431", "serialno_a": f"FDO{i:07d}", "os": "IOS XE 17.9",
                      "location": f"{site.upper()} rack {i % 40}", "location_lat": "52.520008",
                      "location_lon": "13.404954"},
    }


def chunked(method: str, zabbix: Zabbix, params: list[dict[str, Any]], key: str) -> list[str]:
    """`method` with arrays of CHUNK objects; the ids made, in order."""
    return [made for start in range(0, len(params), CHUNK)
            for made in zabbix.call(method, params[start:start + CHUNK])[key]]


def make_hosts(zabbix: Zabbix, count: int) -> tuple[list[str], list[BenchHost]]:
    """The host groups, then `count` hosts, their icmpping trapper items and triggers, in bulk."""
    groupids = [zabbix.group(name) for name in GROUPS]
    params = [host_params(i, groupids) for i in range(count)]
    hostids = chunked("host.create", zabbix, params, "hostids")
    chunked("item.create", zabbix, [{"hostid": hostid, "name": "ICMP ping", "key_": "icmpping", "type": 2,
                                     "value_type": 3} for hostid in hostids], "itemids")
    triggerids = chunked("trigger.create", zabbix, [
        {"description": "{HOST.NAME} is unreachable", "priority": 4, "expression": f"last(/{p['host']}/icmpping)=0"}
        for p in params], "triggerids")
    return groupids, [BenchHost(h, p["host"], t) for h, p, t in zip(hostids, params, triggerids)]


def send_values(zabbix: Zabbix, hosts: list[BenchHost], value: int, work: Path) -> int:
    """One zabbix_sender run over an input file with a value for each host; how many the server processed."""
    path = work / "values.txt"
    path.write_text("".join(sender_line(h.host, "icmpping", value) for h in hosts))
    done = subprocess.run(["zabbix_sender", "-z", "127.0.0.1", "-p", str(zabbix.sender_port), "-i", str(path)],
                          capture_output=True, text=True, timeout=120, check=False)
    return sum(int(n) for n in re.findall(r"processed: (\d+);", done.stdout))


def open_triggers(zabbix: Zabbix, groupids: list[str]) -> set[str]:
    rows = zabbix.call("problem.get", {"groupids": groupids, "source": 0, "object": 0, "output": ["objectid"]})
    return {row["objectid"] for row in rows}


def settle(read: Callable[[], set[str]], expected: int, quiet: float = 3.0, limit: float = 60.0) -> set[str]:
    """Poll `read` until it has `expected` members or has not grown for `quiet` seconds."""
    seen, grew, deadline = read(), time.monotonic(), time.monotonic() + limit
    while len(seen) < expected and time.monotonic() - grew < quiet and time.monotonic() < deadline:
        time.sleep(0.5)
        now = read()
        seen, grew = now, time.monotonic() if len(now) > len(seen) else grew
    return seen


def raise_problems(zabbix: Zabbix, groupids: list[str], hosts: list[BenchHost], work: Path) -> int:
    """icmpping 0 for every host in one sender file, until each host has its problem: a value taken before its
    trigger reached the configuration cache raises nothing, so those hosts are sent again after a reload."""
    zabbix.reload_config()
    time.sleep(1.5)  # the reload runs in the background
    pending, rounds, deadline = hosts, 0, time.monotonic() + 300
    while pending:
        if time.monotonic() > deadline:
            raise SystemExit(f"{len(pending)} of {len(hosts)} hosts still without a problem after 300 s")
        rounds += 1
        send_values(zabbix, pending, 0, work)
        problems = settle(lambda: open_triggers(zabbix, groupids), len(hosts))
        pending = [h for h in hosts if h.triggerid not in problems]
        if pending:
            zabbix.reload_config()
            time.sleep(1.5)
    return rounds


def analyze(dbname: str) -> None:
    """ANALYZE a database, as autovacuum does on a server in use: on freshly filled tables without statistics
    PostgreSQL picks plans that make Zabbix 6.0's event.get selectHosts take ~40 ms per event."""
    with _postgres(dbname) as cursor:
        cursor.execute("ANALYZE")


# --- the floor: the same data read by a plain loop of requests ----------------------------------------------------

def floor_read(url: str, token: str, groupids: list[str]) -> tuple[float, dict[str, float], tuple[int, int]]:
    """host.get (the client's selects) + problem.get + event.get, by hand: seconds, per call, (hosts, problems).
    Then, outside the floor, the one other read the sync needs: the hosts' icmpping items (item.get)."""
    from zabbix_bridge.client.session import ACK_FIELDS, HOST_FIELDS, INTERFACE_FIELDS, PROBLEM_FIELDS

    session, spent = requests.Session(), {}

    def call(method: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        began = time.perf_counter()
        body = {"jsonrpc": "2.0", "method": method, "params": params, "id": 1, "auth": token}
        answer = session.post(url, json=body, timeout=120).json()
        spent[method] = time.perf_counter() - began
        return answer["result"]

    began = time.perf_counter()
    hosts = call("host.get", {
        "groupids": groupids, "output": [*HOST_FIELDS, "proxy_hostid"], "selectGroups": ["groupid", "name"],
        "selectInterfaces": INTERFACE_FIELDS, "selectTags": ["tag", "value"], "selectInventory": "extend",
        "selectParentTemplates": ["templateid", "name"], "selectMacros": ["macro", "value", "type"]})
    problems = call("problem.get", {"groupids": groupids, "source": 0, "object": 0, "recent": False,
                                    "output": PROBLEM_FIELDS, "sortfield": ["eventid"], "sortorder": "DESC"})
    call("event.get", {"eventids": [p["eventid"] for p in problems], "output": ["eventid"],
                       "selectHosts": ["hostid"], "select_acknowledges": ACK_FIELDS})
    floor = time.perf_counter() - began
    call("item.get", {"groupids": groupids, "filter": {"key_": "icmpping"},
                      "output": ["itemid", "hostid", "lastvalue", "lastclock"]})
    return floor, spent, (len(hosts), len(problems))


# --- our side -------------------------------------------------------------------------------------------------------

def our_database() -> None:
    """A fresh database of the bench's own, migrated, Django set up; Redis database 10 emptied (as bench/stack.py)."""
    import django
    import psycopg2

    admin = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {DATABASE}")
    admin.close()
    django.setup()
    import redis
    from django.conf import settings
    from django.core.management import call_command

    logging.disable(logging.INFO)  # not a line per device made and moved down
    call_command("migrate", verbosity=0)
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


def our_server(zabbix: Zabbix) -> int:
    """Hybrid mode and a ZabbixServer taking the bench's host groups, with the API token; its id."""
    from devices.choices import MonitoringMode
    from devices.models import MonitoringProfile
    from zabbix_bridge.models import ZabbixServer

    MonitoringProfile.objects.update(is_active=False)
    MonitoringProfile.objects.create(name="bench", mode=MonitoringMode.HYBRID)
    return ZabbixServer.objects.create(name="bench-zabbix", url=zabbix.url, api_token=zabbix.api_token,
                                       host_groups=list(GROUPS)).pk


def _timed(phases: Phases, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        phases.active.append(name)
        began = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            phases.seconds[name] += time.perf_counter() - began
            phases.active.pop()
    return timed


@contextmanager
def measured(phases: Phases) -> Iterator[None]:
    """Timers around the sync's pieces (read, hosts, problems, state), its API requests and SQL queries; the
    product's code is unchanged (the wrappers are undone on exit)."""
    from django.db import connection

    from zabbix_bridge import hosts, problems, state, sync
    from zabbix_bridge.client.session import _CountingAPI

    def request(original: Callable[..., Any]) -> Callable[..., Any]:
        def timed(api: Any, method: str, *args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return original(api, method, *args, **kwargs)
            finally:
                phases.calls[method] += 1
                phases.api_seconds[method] += time.perf_counter() - began
        return timed

    def query(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        phases.queries[phases.active[-1] if phases.active else "other"] += 1
        return execute(sql, params, many, context)

    targets = [(sync, "read", "read"), (hosts.HostSync, "run", "apply hosts"),
               (problems, "apply", "apply problems"), (state, "apply", "state")]
    saved = [(owner, attr, getattr(owner, attr)) for owner, attr, _ in targets]
    saved.append((_CountingAPI, "send_api_request", _CountingAPI.send_api_request))
    for (owner, attr, name), (_, _, original) in zip(targets, saved):
        setattr(owner, attr, _timed(phases, name, original))
    _CountingAPI.send_api_request = request(_CountingAPI.send_api_request)
    try:
        with connection.execute_wrapper(query):
            yield
    finally:
        for owner, attr, original in saved:
            setattr(owner, attr, original)


def one_sync(server_id: int, profile: bool) -> tuple[float, Any, Phases, pstats.Stats | None]:
    """sync_server(server_id) measured: wall seconds, its Summary, its phases, its profile if asked."""
    from zabbix_bridge.services import sync_server

    phases, profiler = Phases(), cProfile.Profile() if profile else None
    with measured(phases):
        began = time.perf_counter()
        if profiler:
            profiler.enable()
        summary = sync_server(server_id)
        if profiler:
            profiler.disable()
        wall = time.perf_counter() - began
    if summary is None:
        raise SystemExit("sync_server skipped the server: not hybrid mode, or the server is disabled")
    return wall, summary, phases, pstats.Stats(profiler) if profiler else None


# --- report -----------------------------------------------------------------------------------------------------------

def report(title: str, wall: float, summary: Any, phases: Phases, floors: tuple[float, float]) -> None:
    """One sync's figures: wall time, API calls, ratio to the floor (the 3 calls alone, and with the icmpping
    read: the same data the sync reads), and where the time went."""
    floor, same_data = floors
    within = "yes" if wall <= GOAL_RATIO * floor else "NO"
    print(f"\n{title}: {wall:.2f} s ({summary.seconds:.2f} s by its own clock), {summary.calls} API calls, "
          f"{wall / floor:.1f}x the floor ({wall / same_data:.1f}x the floor with the icmpping read); within "
          f"{GOAL_RATIO}x the floor: {within}, under {GOAL_SECONDS:.0f} s: {'yes' if wall < GOAL_SECONDS else 'NO'}")
    print(f"  {summary.hosts} hosts ({summary.created} new, {summary.linked} linked, {summary.retired} retired), "
          f"{summary.problems} problems ({summary.opened} opened, {summary.resolved} resolved), "
          f"{summary.state_changes} state changes")
    api = sum(phases.api_seconds.values())
    calls = ", ".join(f"{m} {n}x {phases.api_seconds[m]:.2f} s" for m, n in phases.calls.most_common())
    print(f"  read from Zabbix  {phases.seconds['read']:6.2f} s  (API requests {api:.2f} s summed, hosts, problems "
          f"and pings read side by side: {calls})")
    for name in ("apply hosts", "apply problems", "state"):
        print(f"  {name:<17} {phases.seconds[name]:6.2f} s  ({phases.queries[name]} SQL queries)")
    rest = wall - sum(phases.seconds[n] for n in ("read", "apply hosts", "apply problems", "state"))
    print(f"  the rest          {rest:6.2f} s  (commit, server row, mode; {phases.queries['other']} SQL queries)")


def print_profile(title: str, stats: pstats.Stats) -> None:
    """The project's functions by cumulative time, then every function by its own time."""
    print(f"\n--- profile of the {title} (cProfile; times inflated) ---")
    stats.sort_stats("cumulative").print_stats(rf"{re.escape(str(stack.ROOT))}/(?!\.venv)", 25)
    stats.sort_stats("tottime").print_stats(15)


def measure_floor(zabbix: Zabbix, groupids: list[str]) -> tuple[float, float]:
    """The floor's median seconds over FLOOR_RUNS reads, printed with each call's; and with the icmpping read."""
    floors = [floor_read(zabbix.url, zabbix.api_token, groupids) for _ in range(FLOOR_RUNS)]
    floor = statistics.median(seconds for seconds, _, _ in floors)
    hosts, problems = floors[0][2]
    median = {m: statistics.median(f[1][m] for f in floors) for m in floors[0][1]}
    calls = ", ".join(f"{m} {median[m]:.2f} s" for m in ("host.get", "problem.get", "event.get"))
    print(f"floor (3 API calls by hand, {hosts} hosts, {problems} problems): {floor:.2f} s, median of {FLOOR_RUNS} "
          f"({calls}); not in it, the icmpping item.get the sync also needs: {median['item.get']:.2f} s")
    return floor, floor + median["item.get"]


def run(zabbix: Zabbix, count: int, profile: bool, work: Path) -> None:
    """Set both sides up, measure the floor, sync twice, print."""
    began = time.monotonic()
    groupids, hosts = make_hosts(zabbix, count)
    made = time.monotonic()
    rounds = raise_problems(zabbix, groupids, hosts, work)
    analyze(TEST_DB)
    print(f"zabbix sync: Zabbix {zabbix.call('apiinfo.version')}, {count} hosts made in {made - began:.1f} s, "
          f"{count} problems raised in {time.monotonic() - made:.1f} s ({rounds} sender run(s))")
    our_database()
    server_id = our_server(zabbix)
    floors = measure_floor(zabbix, groupids)
    for n, title in enumerate(("first sync (empty inventory)", "second sync (nothing changed)")):
        if n:
            analyze(DATABASE)  # the inventory the first sync filled, as autovacuum would
        wall, summary, phases, stats = one_sync(server_id, profile)
        report(title + (" under cProfile" if profile else ""), wall, summary, phases, floors)
        if stats:
            print_profile(title, stats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=at_least(1), default=1000)
    parser.add_argument("--profile", action="store_true", help="run the syncs under cProfile and print it")
    args = parser.parse_args()
    try:
        prepare()
        with tempfile.TemporaryDirectory(prefix="wardflux-bench-zabbix-") as tmp, running(Path(tmp)) as zabbix:
            run(zabbix, args.hosts, args.profile, Path(tmp))
    except (pytest.skip.Exception, pytest.fail.Exception) as exc:
        raise SystemExit(f"zabbix sync: no Zabbix 6.0 to bench against: {exc}") from None


if __name__ == "__main__":
    main()
