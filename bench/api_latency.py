"""API and admin response times at fleet size: 10,000 devices in 20 groups, 80,000 interfaces, 1,000 firing alerts,
an hour of ping history per device asked for, through gunicorn as `make run` starts it (2 processes, 4 threads),
asked three ways (the clients on the same 2 cores): by one client; by 8 people at once, each asking again
`--think` seconds (on average) after the last answer; and by 8 clients at once asking without a pause, which
saturates the two cores. Beside each figure: the same server's `GET /api/v1/` (a view that touches no table),
measured in the same run, as the baseline. Figures only, no pass/fail; the goals are p95 < 50 ms for the API and
< 300 ms for the admin changelist (issue 16).

Everything is real: PostgreSQL (a database made for the run), Redis (database 10), VictoriaMetrics (a temporary
directory). Example:
    .venv/bin/python bench/api_latency.py --devices 10000 --requests 200
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from arguments import at_least  # noqa: E402
from stack import ROOT, machine_speed, make_run, process_env, stack  # noqa: E402  (sets the environment first)

CLIENTS = 8
HISTORY_DEVICES = 50  # devices with an hour of ping samples; history requests ask for these


def build_fleet(devices: int, interfaces: int, alerts: int) -> list[int]:
    """The fleet in the database (bulk inserts) and an hour of ping series for some devices; the device ids."""
    from django.db import connection
    from django.utils import timezone

    from alerts.models import Alert, AlertRule
    from devices.models import Device, DeviceGroup, Tag
    from icmp.models import PingStatus
    from snmp.models import Interface, SNMPStatus
    from wardsite.victoria import Sample, get_client

    now = timezone.now()
    groups = DeviceGroup.objects.bulk_create([DeviceGroup(name=f"site-{g}") for g in range(20)])
    tag = Tag.objects.create(name="core")
    made = Device.objects.bulk_create([
        Device(name=f"sw-{i:05d}", address=f"127.{20 + i // 62500}.{i // 250 % 250}.{1 + i % 250}",
               group=groups[i % 20], vendor="cisco" if i % 3 else "juniper") for i in range(devices)], batch_size=2000)
    Device.tags.through.objects.bulk_create([Device.tags.through(device_id=d.pk, tag_id=tag.pk) for d in made[::10]])
    PingStatus.objects.bulk_create([PingStatus(device=d, checked_at=now, rtt_avg_ms=0.3, packet_loss=0.0)
                                    for d in made], batch_size=2000)
    SNMPStatus.objects.bulk_create([SNMPStatus(device=d, checked_at=now, reachable=True) for d in made],
                                   batch_size=2000)
    Interface.objects.bulk_create([Interface(device=d, if_index=x, name=f"Gi0/{x}", oper_status=1, admin_status=1)
                                   for d in made for x in range(1, interfaces + 1)], batch_size=5000)
    rule = AlertRule.objects.get(builtin="device-down")
    Alert.objects.bulk_create([
        Alert(rule=rule, device=d, fingerprint=f"bench-{d.pk}", severity="critical", status="firing", value=0,
              pending_since=now, triggered_at=now, last_seen_at=now,
              labels={"device_id": str(d.pk), "device": d.name}) for d in random.sample(made, min(alerts, len(made)))])
    end, samples = int(time.time()), []
    for d in made[:HISTORY_DEVICES]:
        labels = {"device_id": str(d.pk), "device": d.name, "ip": d.address}
        for t in range(end - 3600, end, 30):
            samples += [Sample("ping_up", labels, 1.0, t * 1000), Sample("ping_rtt_ms", labels, 0.3, t * 1000),
                        Sample("ping_packet_loss", labels, 0.0, t * 1000)]
    get_client().write(samples)
    get_client().flush()
    with connection.cursor() as cursor:  # what autovacuum does within a minute of a bulk load: plans on real counts
        cursor.execute("ANALYZE")
    return [d.pk for d in made]


def credentials() -> tuple[dict[str, str], dict[str, str]]:
    """An API token header and an admin session cookie of a superuser."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.utils.module_loading import import_string

    from wardsite.api_tokens import create_token

    user = User.objects.create_superuser("bench", "bench@example.test", os.urandom(8).hex())
    _, token = create_token(user, None)
    session = import_string(f"{settings.SESSION_ENGINE}.SessionStore")()
    session.update({SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                    HASH_SESSION_KEY: user.get_session_auth_hash()})
    session.create()
    return {"Authorization": f"Token {token}"}, {settings.SESSION_COOKIE_NAME: session.session_key}


def endpoints(ids: list[int]) -> dict[str, callable]:
    """name -> a function giving the next path to ask (random devices, as many users would)."""
    some = ids[:HISTORY_DEVICES]
    return {
        "baseline: GET /api/v1/": lambda: "/api/v1/",
        "device list (page of 100, group + search)":
            lambda: f"/api/v1/devices/?limit=100&group=site-{random.randrange(20)}&search=sw-0{random.randrange(10)}",
        "device list (page of 100, offset 5000)": lambda: "/api/v1/devices/?limit=100&offset=5000",
        "device detail": lambda: f"/api/v1/devices/{random.choice(ids)}/",
        "ICMP status (page of 100)": lambda: f"/api/v1/monitoring/icmp/status?limit=100&offset={random.randrange(90)}00",
        "SNMP interfaces of a device": lambda: f"/api/v1/monitoring/snmp/interfaces/?device={random.choice(ids)}",
        "active alerts (page of 100)": lambda: "/api/v1/monitoring/alerts/active?limit=100",
        "ICMP history range=1h": lambda: f"/api/v1/monitoring/icmp/history/{random.choice(some)}?range=1h",
        "admin device changelist": lambda: f"/admin/devices/device/?p={random.randrange(1, 50)}",
    }


def measure(base: str, path_of, headers, cookies, count: int, clients: int = CLIENTS, think: float = 0.0
            ) -> list[float]:
    """`count` requests by `clients` threads at once, each thread pausing a random time of `think` seconds on average
    (exponential: people, not a metronome) before each of its requests; each one's time in ms (a non-200 answer
    stops the bench)."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util import Retry

    sessions = [requests.Session() for _ in range(clients)]
    for session in sessions:  # a connection gunicorn closed while the person thought is opened again, as a browser does
        session.mount("http://", HTTPAdapter(max_retries=Retry(total=1, status=0, allowed_methods=["GET"])))

    def one(n: int) -> float:
        if think:
            time.sleep(random.expovariate(1 / think))
        path = path_of()
        started = time.perf_counter()
        response = sessions[n % clients].get(base + path, headers=headers, cookies=cookies, timeout=60)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}: {response.text[:300]}")
        return elapsed

    with ThreadPoolExecutor(max_workers=clients) as pool:
        return list(pool.map(one, range(count)))


def serve(work: Path) -> tuple[subprocess.Popen, str]:
    from tests.services import die_with_parent, free_port
    from tests.worker import wait_for

    import requests

    port = free_port()
    env = process_env(ALLOWED_HOSTS="127.0.0.1", HTTPS_ONLY="0")
    with (work / "gunicorn.log").open("w") as log:
        web = make_run.processes(port, work / "beat-schedule")["web"]
        process = subprocess.Popen([str(Path(sys.executable).parent / web[0]), *web[1:]],
                                   cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   preexec_fn=die_with_parent)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return requests.get(f"{base}/healthz", timeout=5).status_code in (200, 503)
        except requests.RequestException:
            return False

    wait_for(up, 60, "gunicorn to answer")
    return process, base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=at_least(1), default=10_000)
    parser.add_argument("--interfaces", type=at_least(0), default=8, help="per device")
    parser.add_argument("--alerts", type=at_least(0), default=1000, help="firing alerts")
    parser.add_argument("--requests", type=at_least(2), default=200, help="per endpoint and way of asking")
    parser.add_argument("--think", type=at_least(0.01, float), default=1.0,
                        help="seconds each of the 8 people waits on average before asking again (at least 0.01)")
    args = parser.parse_args()
    from tests.services import stop_process

    with stack() as (work, _victoria):
        started = time.monotonic()
        ids = build_fleet(args.devices, args.interfaces, args.alerts)
        print(f"fleet: {args.devices:,} devices, {args.devices * args.interfaces:,} interfaces, "
              f"{min(args.alerts, args.devices):,} "
              f"firing alerts, built in {time.monotonic() - started:.0f} s; {CLIENTS} clients, "
              f"{args.requests} requests per endpoint and way, gunicorn 2 processes x 4 threads; {machine_speed()}")
        headers, cookies = credentials()
        process, base = serve(work)
        try:
            report(base, endpoints(ids), headers, cookies, args.requests, args.think)
        finally:
            stop_process(process)


def report(base: str, paths: dict, headers, cookies, count: int, think: float) -> None:
    """Per endpoint: p50/p95 with one client (a person clicking on an otherwise idle server); p50/p95/p99 with
    CLIENTS people at once, each pausing `think` s on average between requests; p50/p95/p99 with CLIENTS asking
    without a pause, its requests/s, and the clients' own CPU per request (they share the server's cores)."""
    baseline = None
    print(f"{'':42} {'1 client':>15} {f'{CLIENTS} people, {think:g} s apart':>26} "
          f"{f'{CLIENTS} clients, no pause':>26}")
    print(f"{'endpoint':42} {'p50':>7} {'p95':>7} {'p50':>8} {'p95':>8} {'p99':>8} {'p50':>8} {'p95':>8} {'p99':>8} "
          f"{'req/s':>6} {'client CPU':>10} {'p95/base':>9}")
    for name, path_of in paths.items():
        measure(base, path_of, headers, cookies, CLIENTS)  # warm: connections, caches
        alone = sorted(measure(base, path_of, headers, cookies, count // 2, clients=1))
        people = sorted(measure(base, path_of, headers, cookies, count, think=think))
        cpu, started = time.process_time(), time.perf_counter()
        times = sorted(measure(base, path_of, headers, cookies, count))
        cpu, took = (time.process_time() - cpu) / count * 1000, time.perf_counter() - started
        p95 = _quantile(times, 0.95)
        baseline = baseline or p95
        print(f"{name:42} {_quantile(alone, 0.5):7.1f} {_quantile(alone, 0.95):7.1f} "
              + " ".join(f"{_quantile(people, q):8.1f}" for q in (0.5, 0.95, 0.99))
              + f" {_quantile(times, 0.5):8.1f} {p95:8.1f} {_quantile(times, 0.99):8.1f} {count / took:6.0f} "
              f"{cpu:7.1f} ms {p95 / baseline:8.1f}x")
    print("times in ms; p95/base: the p95 with no pause against the baseline's")


def _quantile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


if __name__ == "__main__":
    main()
