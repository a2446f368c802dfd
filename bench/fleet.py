"""The whole stack as `make run` starts it - gunicorn web, the two Celery workers (icmp; the rest), beat with
the DatabaseScheduler, PostgreSQL, Redis, VictoriaMetrics - carrying N devices, each pinged every 30 s and polled
by SNMP every 60 s (sysUpTime, 8 interfaces with 64-bit counters, and CPU and memory through a template), with
the default alert rules. Figures only, no pass/fail (the targets are printed beside them).

The devices live in a private network namespace reached through one veth pair (198.18.128.0/17, of the RFC 2544
benchmarking range; the tests use 198.18.4.0/22; routed through a gateway so the whole fleet costs one neighbour
entry): inside, every 198.18.128-191.x address answers (a `local` route on lo, as every 127.x does on loopback)
and one net-snmp snmpd answers SNMP on all of them, with 6 veth ports + lo + the uplink = 8 interfaces in its
ifXTable. 1 % of the devices are /32 addresses of their own (198.18.192+.x) that are removed halfway through:
those go silent.
PostgreSQL (an initdb'd cluster) and Redis are the bench's own processes, so their CPU and memory are ours alone.
Needs root (namespaces). Example (~8 min):
    .venv/bin/python bench/fleet.py --devices 500,1000 --duration 120
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stack import ROOT, machine_speed, make_run, own_services, process_env, stack  # noqa: E402  (sets the environment first)

from fleet_figures import Sampler, Usage, after_slot, export, lateness, percentile, scrape, task_durations  # noqa: E402
from fleet_network import FleetNetwork  # noqa: E402
from snmp_lab import COMMUNITY, Agent  # noqa: E402
from tests.services import die_with_parent, free_port  # noqa: E402
from arguments import at_least, sizes  # noqa: E402

ICMP_INTERVAL = 30
SNMP_INTERVAL = 60
SILENT_SHARE = 0.01
METRICS_TOKEN = "fleet-bench"
TEMPLATE_ITEMS = [  # UCD-SNMP-MIB scalars net-snmp answers: (key, OID)
    ("cpu_user_percent", "1.3.6.1.4.1.2021.11.9.0"),  # ssCpuUser
    ("memory_total_kilobytes", "1.3.6.1.4.1.2021.4.5.0"),  # memTotalReal
    ("memory_free_kilobytes", "1.3.6.1.4.1.2021.4.6.0"),  # memAvailReal
]
QUEUES = ("icmp", "snmp", "alerts", "notifications", "celery")
OURS = ("web", "icmp worker", "snmp worker", "worker", "beat")
TASKS = ("icmp.dispatch", "icmp.ping_batch", "snmp.dispatch", "snmp.poll_batch", "alerts.evaluate")


# --- the fleet in the database --------------------------------------------------------------------------------

def populate(network: FleetNetwork) -> None:
    """Devices in one group pinged every ICMP_INTERVAL s (PingSettings of the group), SNMP v2c, and a template of
    CPU and memory items applied by templates_app.applier to the first device and copied in bulk to the others
    (the same rows: applying it 10,000 times one by one would take longer than the run)."""
    from devices.models import Device, DeviceGroup
    from icmp.models import PingSettings
    from snmp.models import MonitoringItem, SNMPCredential
    from templates_app import applier
    from templates_app.models import MonitoringTemplate, TemplateAssignment

    group = DeviceGroup.objects.create(name="fleet")
    PingSettings.objects.create(group=group, interval_seconds=ICMP_INTERVAL, packets=3, packet_interval_ms=200,
                                timeout_ms=1000, down_after=3)
    credential = SNMPCredential.objects.create(name="fleet", community=COMMUNITY)
    addresses = network.answering + network.silent
    devices = Device.objects.bulk_create(
        Device(name=f"fleet-{address}", address=address, group=group, snmp_enabled=True, snmp_credential=credential)
        for address in addresses)
    template = MonitoringTemplate.objects.create(key="fleet-host", name="Fleet host")
    for key, oid in TEMPLATE_ITEMS:
        template.items.create(key=key, oid=oid, interval_seconds=SNMP_INTERVAL, value_type="integer")
    applier.apply(template, devices[0])
    first_items = list(MonitoringItem.objects.filter(device=devices[0]))
    for start in range(1, len(devices), 2000):
        chunk = devices[start:start + 2000]
        MonitoringItem.objects.bulk_create(
            MonitoringItem(device=device, name=i.name, metric=i.metric, labels=i.labels, oid=i.oid,
                           interval_seconds=i.interval_seconds, value_type=i.value_type, units=i.units,
                           template_item_id=i.template_item_id) for device in chunk for i in first_items)
        TemplateAssignment.objects.bulk_create(
            TemplateAssignment(device=device, template=template, applied_version=template.version) for device in chunk)


# --- the processes and what they use --------------------------------------------------------------------------

@dataclass
class Options:
    duration: float  # seconds of steady state
    profile: bool  # cProfile one ICMP and one SNMP batch
    logs: Path | None  # keep the processes' logs here, at DEBUG (every task received and finished)


def start(command: list[str], log: Path, level: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
    """`command` of the venv's bin/ (a make_run process), its output in `log`."""
    env = process_env(METRICS_TOKEN=METRICS_TOKEN, LOG_LEVEL=level, HTTPS_ONLY="0", ALLOWED_HOSTS="127.0.0.1",
                      **(extra_env or {}))
    with log.open("w") as out:
        return subprocess.Popen([str(Path(sys.executable).parent / command[0]), *command[1:]], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)


def database_counters(port: int) -> dict[str, int]:
    import psycopg2

    from stack import DATABASE

    with psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname=DATABASE) as connection:
        with connection.cursor() as cursor:
            cursor.execute("SELECT xact_commit, tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted "
                           "FROM pg_stat_database WHERE datname = current_database()")
            names = ("xact_commit", "tup_returned", "tup_fetched", "tup_inserted", "tup_updated", "tup_deleted")
            return dict(zip(names, cursor.fetchone()))


def dispatch_queries(profile: bool) -> dict[str, tuple[int, int, float, float]]:
    """With the stack stopped and every device due: (SQL queries, devices, wall seconds, CPU seconds) of each
    collector's dispatch (claiming every device) and of its first batch, run here under CaptureQueriesContext;
    with `profile`, cProfile's top functions of each batch too."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from icmp import services as icmp_services
    from icmp.models import PingStatus
    from snmp import services as snmp_services
    from snmp.models import MonitoringItem, SNMPStatus

    PingStatus.objects.update(next_due_at=timezone.now())
    # a whole poll, as in the steady state: the interface counters and the items due too, not only the device
    SNMPStatus.objects.update(next_due_at=timezone.now(), interfaces_due_at=timezone.now())
    MonitoringItem.objects.update(next_due_at=timezone.now())
    figures = {}

    def timed(name: str, call, devices=None, profiled: bool = False):
        profiler = cProfile.Profile() if profiled else None
        with CaptureQueriesContext(connection) as queries:
            started, cpu = time.perf_counter(), time.process_time()
            result = profiler.runcall(call) if profiler else call()
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        count = devices if devices is not None else sum(len(ids) for _, ids in result)
        figures[name] = (len(queries), count, wall, cpu)
        if profiler:
            print(f"  cProfile of {name} ({count} devices), top 15 by own time, then top 30 with callees:")
            pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(15)
            pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(30)
        return result

    for collector, batch in (("icmp", icmp_services.run_cycle), ("snmp", snmp_services.run_batch)):
        due = icmp_services.due_batches if collector == "icmp" else snmp_services.due_batches
        first = timed(f"{collector}.dispatch", due)[0][1]
        timed(f"{batch.__module__}.{batch.__name__}", lambda: batch(first), len(first), profile)
    connection.close()
    return figures


# --- one fleet ------------------------------------------------------------------------------------------------

@dataclass
class Result:
    devices: int
    duration: float
    icmp_late: list[float]
    snmp_late: list[float]
    icmp_after_slot: list[float]
    snmp_after_slot: list[float]
    tasks: dict[str, tuple[float, float, str, float]]  # task -> (runs, mean seconds, p99 bucket, CPU seconds)
    samples_per_second: float
    false_downs: int
    detections: list[float]
    silent: int
    usage: dict[str, Usage]
    peak_depth: dict[str, int]
    peak_total_depth: int
    database: dict[str, int]
    dispatch: dict[str, tuple[int, int, float, float]]

    def cpu(self, name: str) -> float:
        """Share of one core over the steady state."""
        return (self.usage[name].cpu_end - self.usage[name].cpu_start) / self.duration

    def ours_cpu(self) -> float:
        return sum(self.cpu(name) for name in OURS)

    def ours_pss_mb(self) -> float:
        return sum(self.usage[name].peak_pss_kb for name in OURS) / 1024

    def worker_ms_per_device_cycle(self, icmp_only: bool = False) -> float:
        """The icmp worker's CPU per device per ICMP interval (its dispatcher included); `icmp_only`: without the
        SNMP dispatcher's tasks, which run on that worker too (the dispatch queue)."""
        cpu = self.cpu("icmp worker") - (self.tasks.get("snmp.dispatch", (0, 0, "", 0))[3] / self.duration
                                         if icmp_only else 0)
        return cpu * ICMP_INTERVAL / self.devices * 1000

    def snmp_worker_ms_per_device_poll(self) -> float:
        """The snmp worker's CPU per device per SNMP interval."""
        return self.cpu("snmp worker") * SNMP_INTERVAL / self.devices * 1000


def wait_for(condition, timeout: float) -> bool:
    """Whether `condition()` came true within `timeout` seconds (checked every second)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(1)
    return True


def run_fleet(count: int, options: Options) -> Result:
    silent = max(1, round(count * SILENT_SHARE))
    network = FleetNetwork(count - silent, silent)
    network.build()
    try:
        with own_services() as services, stack() as (work, victoria):
            return measure(count, options, network, services, work, victoria)
    finally:
        network.destroy()


def start_stack(work: Path, processes: dict[str, subprocess.Popen], logs: Path | None) -> int:
    """Web, workers and beat as scripts/run.sh starts them, added to `processes`; the web port."""
    web_port = free_port()
    if logs:
        logs.mkdir(parents=True, exist_ok=True)
    for name, command in make_run.processes(web_port, work / "beat-schedule").items():
        log = (logs or work) / f"{name.replace(' ', '-')}.log"
        processes[name] = start(command, log, "DEBUG" if logs else "WARNING")
    return web_port


def stop_stack(processes: dict[str, subprocess.Popen]) -> None:
    for process in processes.values():
        process.terminate()
    for process in processes.values():
        process.wait(timeout=60)


def wait_all_up(count: int, work: Path) -> None:
    from django.db import connection

    from devices.models import Device

    if not wait_for(lambda: Device.objects.filter(state="up").count() == count, 4 * ICMP_INTERVAL + 120):
        raise SystemExit(f"not every device was up {4 * ICMP_INTERVAL + 120} s after the start (logs: {work})")
    connection.close()


def _rows_inserted(vm_metrics: dict[str, float]) -> float:
    return sum(v for k, v in vm_metrics.items() if k.startswith("vm_rows_inserted_total"))


def wait_silent_down(silent_names: set[str]) -> None:
    """Give the silent devices time to go down; those still up then count as not detected."""
    from devices.models import DeviceStateChange

    wait_for(lambda: DeviceStateChange.objects.filter(new="down", device__name__in=silent_names).count()
             >= len(silent_names), 3 * ICMP_INTERVAL + 30)


def downs_seen(silent_names: set[str], silent_at: float) -> tuple[list[float], int]:
    """Seconds from silencing to down of each silent device that went down; downs of any other device."""
    from django.db import connection

    from devices.models import DeviceStateChange

    downs = DeviceStateChange.objects.filter(new="down").select_related("device")
    detections = [change.at.timestamp() - silent_at for change in downs
                  if change.device.name in silent_names and change.at.timestamp() >= silent_at]
    false_downs = sum(1 for change in downs if change.device.name not in silent_names)
    connection.close()
    return detections, false_downs


def measure(count: int, options: Options, network: FleetNetwork, services, work: Path, victoria) -> Result:
    from django.conf import settings
    from django.db import connection

    agent = Agent(work, network.answering[0], netns=network.name)
    processes: dict[str, subprocess.Popen] = {}
    try:
        started = time.time()
        populate(network)
        connection.close()
        web_port = start_stack(work, processes, options.logs and options.logs / str(count))
        print(f"  {count} devices: set up in {time.time() - started:.0f} s; waiting for every device to be up",
              flush=True)
        wait_all_up(count, work)
        # past the start: every device is first due at once, then on its own slot (wardsite.dispatch.next_due);
        # two SNMP intervals hold the first polls (interface discovery included) and the gaps to the slots after
        time.sleep(2 * SNMP_INTERVAL)
        roots = {**{name: p.pid for name, p in processes.items()}, "VictoriaMetrics": victoria._process.pid,
                 "Redis": services.redis.pid, "PostgreSQL": services.postgres.pid, "agent (snmpd)": agent.process.pid}
        metrics_url = f"http://127.0.0.1:{web_port}/metrics"
        web_before, vm_before = scrape(metrics_url, METRICS_TOKEN), scrape(f"{victoria.url}/metrics")
        db_before = database_counters(services.postgres_port)
        sampler = Sampler(roots, settings.REDIS_URL, QUEUES)
        t0 = time.time()
        print(f"  {count} devices: steady state for {options.duration:.0f} s", flush=True)
        time.sleep(options.duration / 2)
        network.silence()
        silent_at = time.time()
        time.sleep(max(0.0, t0 + options.duration - time.time()))
        t1 = time.time()
        sampler.stop()
        web_after, vm_after = scrape(metrics_url, METRICS_TOKEN), scrape(f"{victoria.url}/metrics")
        db_after = database_counters(services.postgres_port)
        silent_names = {f"fleet-{address}" for address in network.silent}
        wait_silent_down(silent_names)
        stop_stack(processes)
        dispatch = dispatch_queries(options.profile)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
        agent.stop()
    detections, false_downs = downs_seen(silent_names, silent_at)
    inserted = _rows_inserted(vm_after) - _rows_inserted(vm_before)
    pings, polls = export(victoria.url, "ping_up", t0, t1), export(victoria.url, "snmp_up", t0, t1)
    return Result(
        devices=count, duration=t1 - t0,
        icmp_late=lateness(pings, ICMP_INTERVAL, silent_names), snmp_late=lateness(polls, SNMP_INTERVAL, silent_names),
        icmp_after_slot=after_slot(pings, ICMP_INTERVAL, silent_names),
        snmp_after_slot=after_slot(polls, SNMP_INTERVAL, silent_names),
        tasks={task: task_durations(web_before, web_after, task) for task in TASKS},
        samples_per_second=inserted / (t1 - t0), false_downs=false_downs, detections=detections,
        silent=len(silent_names), usage=sampler.usage, peak_depth=dict(sampler.peak_depth),
        peak_total_depth=sampler.peak_total_depth,
        database={k: db_after[k] - db_before[k] for k in db_before}, dispatch=dict(dispatch))


# --- report ---------------------------------------------------------------------------------------------------

def _late(values: list[float], what: str = "gaps") -> str:
    return (f"p50 {percentile(values, 0.5):6.2f} s  p99 {percentile(values, 0.99):6.2f} s  "
            f"max {max(values, default=float('nan')):6.2f} s  ({len(values)} {what})")


def report(result: Result) -> None:
    n, d = result.devices, result.duration
    print(f"\n== {n} devices ({result.silent} silent halfway), steady state {d:.0f} s ==")
    print(f"ICMP lateness (ping_up sample - the device's slot):           {_late(result.icmp_after_slot, 'samples')}")
    print(f"ICMP regularity (gap between ping_up samples - {ICMP_INTERVAL} s):     {_late(result.icmp_late)}")
    print(f"SNMP lateness (snmp_up sample - the device's slot):           {_late(result.snmp_after_slot, 'samples')}")
    print(f"SNMP regularity (gap between snmp_up samples - {SNMP_INTERVAL} s):     {_late(result.snmp_late)}")
    print("tasks (from /metrics):  runs   mean s  p99 bucket   CPU % of a core  CPU ms per device per interval")
    for task, (runs, mean, p99, cpu) in result.tasks.items():
        interval = ICMP_INTERVAL if task.startswith("icmp") else SNMP_INTERVAL
        print(f"  {task:<16} {runs:6.0f} {mean:8.2f}  {p99:>10}   {100 * cpu / d:15.1f}  "
              f"{cpu * interval / d / n * 1000:10.3f} ({interval} s)")
    print(f"samples written: {result.samples_per_second:.0f}/s (VictoriaMetrics vm_rows_inserted_total)")
    detected = sorted(result.detections)
    print(f"false downs: {result.false_downs} (target 0); silent devices detected: {len(detected)}/{result.silent}, "
          f"silent->down median {percentile(detected, 0.5):.1f} s, max {max(detected, default=float('nan')):.1f} s")
    print(f"{'process':<16} {'CPU % of a core':>15} {'peak PSS MB':>11} {'peak VmHWM MB':>13}")
    for name, usage in result.usage.items():
        print(f"{name:<16} {100 * result.cpu(name):15.1f} {usage.peak_pss_kb / 1024:11.0f} "
              f"{usage.peak_hwm_kb / 1024:13.0f}")
    print(f"{'WARD FLUX (web+workers+beat)':<28} {100 * result.ours_cpu():5.1f} % of a core (target < 100), "
          f"{result.ours_pss_mb():.0f} MB (target < 1024)")
    print(f"icmp worker CPU per device per ICMP cycle ({ICMP_INTERVAL} s): "
          f"{result.worker_ms_per_device_cycle():.3f} ms (target <= 0.3; without the SNMP dispatcher's tasks "
          f"{result.worker_ms_per_device_cycle(icmp_only=True):.3f}); snmp worker per device per SNMP poll "
          f"({SNMP_INTERVAL} s): {result.snmp_worker_ms_per_device_poll():.3f} ms")
    depths = ", ".join(f"{queue} {depth}" for queue, depth in result.peak_depth.items() if depth)
    print(f"peak queue depth (LLEN every 1 s): {result.peak_total_depth} in all ({depths or 'all empty'})")
    print("SQL and CPU with every device due and the stack stopped, run in the bench process (CaptureQueriesContext):")
    for name, (queries, devices, wall, cpu) in result.dispatch.items():
        print(f"  {name:<28} {queries:6d} queries for {devices:6d} devices ({queries / devices:.3f} per device), "
              f"{wall:.2f} s, CPU {cpu * 1000 / devices:.3f} ms per device")
    db = result.database
    print(f"PostgreSQL, whole stack (pg_stat_database): {db['xact_commit'] / d:.1f} commits/s, rows/s: returned "
          f"{db['tup_returned'] / d:.0f}, fetched {db['tup_fetched'] / d:.0f}, inserted {db['tup_inserted'] / d:.0f}, "
          f"updated {db['tup_updated'] / d:.0f}")


def growth(first: Result, last: Result) -> None:
    def ratio(a: float, b: float) -> str:
        return f"{b / a:.2f}x" if a else "n/a"

    per_device = ratio(first.ours_cpu() / first.devices, last.ours_cpu() / last.devices)
    print(f"\ngrowth {first.devices} -> {last.devices} devices ({last.devices / first.devices:.0f}x): "
          f"WARD FLUX CPU per device {per_device} (target <= 1.2x), "
          f"worker CPU per device {ratio(first.worker_ms_per_device_cycle(), last.worker_ms_per_device_cycle())}, "
          f"WARD FLUX PSS {ratio(first.ours_pss_mb(), last.ours_pss_mb())}, "
          f"ICMP lateness p99 {ratio(*(percentile(r.icmp_after_slot, 0.99) for r in (first, last)))}, "
          f"SNMP lateness p99 {ratio(*(percentile(r.snmp_after_slot, 0.99) for r in (first, last)))}, "
          f"samples/s {ratio(first.samples_per_second, last.samples_per_second)}")


def load_result(path: Path) -> Result:
    data = json.loads(path.read_text())
    data["usage"] = {name: Usage(**usage) for name, usage in data["usage"].items()}
    return Result(**data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=sizes, default="1000,5000,10000", help="fleet sizes, comma-separated")
    parser.add_argument("--duration", type=at_least(30, float), default=300,
                        help="seconds of steady state per fleet (300; at least 30, an ICMP cycle)")
    parser.add_argument("--profile", action="store_true",
                        help="print cProfile's top functions of one ICMP and one SNMP batch run in the bench process")
    parser.add_argument("--logs", type=Path, help="keep the processes' logs in LOGS/<devices>/, at DEBUG: every task "
                        "received and finished, every schedule sent")
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)  # one fleet, in a child process: its figures
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("bench/fleet.py needs root (network namespaces)")
    if args.result:  # Django is set up once per process: each fleet gets a process with its own databases
        result = run_fleet(args.devices[0], Options(args.duration, args.profile, args.logs))
        report(result)
        args.result.write_text(json.dumps(asdict(result)))
        return
    memory = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    print(f"fleet bench on {platform.node()}: {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
          f"{memory.split()[1] + ' kB'} RAM, {platform.platform()}; ICMP every {ICMP_INTERVAL} s, SNMP every "
          f"{SNMP_INTERVAL} s; the agent and the bench share the same CPUs; {machine_speed()}", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as directory:
        for count in args.devices:
            path = Path(directory) / f"{count}.json"
            subprocess.run([sys.executable, __file__, "--devices", str(count), "--duration", str(args.duration),
                            "--result", str(path), *(["--profile"] if args.profile else []),
                            *(["--logs", str(args.logs.resolve())] if args.logs else [])], check=True)
            results.append(load_result(path))
    if len(results) > 1:
        growth(results[0], results[-1])
    print("targets: lateness p99 <= 2 s, 0 false downs, WARD FLUX < 1 GB and < 1 core at 10,000 devices, worker "
          "<= 0.3 ms per device per ICMP cycle, cost per device flat within 1.2x (printed, not asserted)")


if __name__ == "__main__":
    main()
