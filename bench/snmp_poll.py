"""Benchmark one SNMP poll per device - GET sysUpTime.0, then a GETBULK walk (max-repetitions 25) of a 48-port
ifXTable with HC counters - by snmp.client, beside prometheus-snmp-exporter and net-snmp's snmpget/snmpbulkwalk
on the same devices in the same run.

The bench moves itself into a private network namespace (it vanishes with the process, whatever happens), adds
24 veth pairs there so that net-snmp's snmpd has 48 ports (+ lo) in its ifXTable, and starts snmpd on UDP 161
of that namespace. Device i is 127.0.1.i: every 127/8 address reaches the one agent, which answers from the
address asked. The agent counts the PDUs (snmpInPkts), the same way for every client. Client CPU: our process
(time.process_time), the exporter's process (/proc/PID/stat; it includes serving /metrics), the net-snmp
processes (RUSAGE_CHILDREN). Figures only, no pass/fail. Needs root (namespaces). Example:
    .venv/bin/python bench/snmp_poll.py --devices 200 --rounds 3
"""
from __future__ import annotations

import argparse
import ctypes
import json
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from snmp_lab import COMMUNITY, Agent, cpu_seconds, veth_commands, wait_until  # noqa: E402

from snmp import client  # noqa: E402
from snmp.client import Target  # noqa: E402
from arguments import at_least  # noqa: E402

CLONE_NEWNET = 0x40000000
MAX_REPETITIONS = 25
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
IF_X_TABLE = "1.3.6.1.2.1.31.1.1"
PORTS = 48
ROWS = (PORTS + 1) * 18  # 48 ports and lo, 18 columns: net-snmp has no ifCounterDiscontinuityTime
EXPORTER_ADDRESS = "127.0.0.1:9116"
IF_X_COLUMNS = [  # ifXTable (IF-MIB): column arc, name, exporter metric type
    (1, "ifName", "DisplayString"), (2, "ifInMulticastPkts", "counter"), (3, "ifInBroadcastPkts", "counter"),
    (4, "ifOutMulticastPkts", "counter"), (5, "ifOutBroadcastPkts", "counter"), (6, "ifHCInOctets", "counter"),
    (7, "ifHCInUcastPkts", "counter"), (8, "ifHCInMulticastPkts", "counter"),
    (9, "ifHCInBroadcastPkts", "counter"), (10, "ifHCOutOctets", "counter"), (11, "ifHCOutUcastPkts", "counter"),
    (12, "ifHCOutMulticastPkts", "counter"), (13, "ifHCOutBroadcastPkts", "counter"),
    (14, "ifLinkUpDownTrapEnable", "gauge"), (15, "ifHighSpeed", "gauge"), (16, "ifPromiscuousMode", "gauge"),
    (17, "ifConnectorPresent", "gauge"), (18, "ifAlias", "DisplayString"),
    (19, "ifCounterDiscontinuityTime", "gauge"),
]


@dataclass
class Run:
    """One tool's polls of every device, `rounds` times over."""

    tool: str
    polls: int
    pdus: int
    wall: float  # seconds
    cpu: float  # client CPU seconds
    agent_cpu: float  # snmpd CPU seconds meanwhile
    errors: int


# --- the lab: a private namespace, 48 ports, snmpd ------------------------------------------------------------

def enter_private_network() -> None:
    """Move this process (and its children to come) into a new network namespace with 48 veth ports."""
    if ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWNET) != 0:
        raise SystemExit(f"cannot create a network namespace ({os.strerror(ctypes.get_errno())}): run as root")
    for command in [["ip", "link", "set", "lo", "up"], *veth_commands(PORTS // 2)]:
        subprocess.run(command, check=True)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Exporter:
    """Debian's prometheus-snmp-exporter with one module: GET sysUpTime.0 and walk ifXTable, like our poll."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("prometheus-snmp-exporter")
        if binary is None:
            raise SystemExit("prometheus-snmp-exporter is not installed: run `make bench` (Debian package)")
        config = directory / "snmp.yml"
        config.write_text(json.dumps(exporter_config(), indent=1))  # JSON is YAML
        version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
        self.version = (version.stdout + version.stderr).split()[2]  # "snmp_exporter, version 0.21.0 (…"
        self.process = subprocess.Popen(
            [binary, f"--config.file={config}", f"--web.listen-address={EXPORTER_ADDRESS}", "--log.level=warn"],
            stdin=subprocess.DEVNULL)
        wait_until(self._answers, "prometheus-snmp-exporter", self.process)

    def _answers(self) -> bool:
        try:
            urllib.request.urlopen(f"http://{EXPORTER_ADDRESS}/", timeout=1).close()
        except OSError:
            return False
        return True

    def scrape(self, address: str) -> bool:
        """Whether one scrape of the device at `address` came back with its 49 ifHCInOctets rows."""
        url = f"http://{EXPORTER_ADDRESS}/snmp?module=poll&target={address}"
        with urllib.request.urlopen(url, timeout=30) as response:
            body = response.read().decode()
        return body.count("\nifHCInOctets{") == PORTS + 1

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()


def exporter_config() -> dict:
    """snmp.yml in the 0.21 format (one module per scrape), by hand: Debian ships no MIBs for the generator.
    Every ifXTable column as a metric labelled by ifIndex and ifName, as the generator would make them."""
    entry = IF_X_TABLE + ".1"
    metrics = [{"name": "sysUpTime", "oid": SYS_UPTIME.removesuffix(".0"), "type": "gauge"}]
    metrics += [{"name": name, "oid": f"{entry}.{arc}", "type": kind,
                 "indexes": [{"labelname": "ifIndex", "type": "gauge"}],
                 "lookups": [{"labels": ["ifIndex"], "labelname": "ifName", "oid": f"{entry}.1",
                              "type": "DisplayString"}]}
                for arc, name, kind in IF_X_COLUMNS]
    return {"poll": {"version": 2, "max_repetitions": MAX_REPETITIONS, "retries": 1, "timeout": "2s",
                     "auth": {"community": COMMUNITY}, "get": [SYS_UPTIME], "walk": [IF_X_TABLE],
                     "metrics": metrics}}


# --- the pollers ----------------------------------------------------------------------------------------------

def addresses(devices: int) -> list[str]:
    return [f"127.0.{1 + i // 250}.{1 + i % 250}" for i in range(devices)]


async def poll_device(target: Target) -> int:
    """One poll the way snmp.poller does it: sysUpTime, then the interface table; the rows read."""
    await client.get(target, [SYS_UPTIME])
    return len(await client.walk(target, IF_X_TABLE, max_repetitions=MAX_REPETITIONS))


async def poll_all(devices: list[str], rounds: int, limit: int) -> int:
    """Every device `rounds` times through client.gather_limited; how many polls failed."""
    targets = [Target(address, community=COMMUNITY) for address in devices]
    errors = 0
    for _ in range(rounds):
        results = await client.gather_limited([lambda target=target: poll_device(target) for target in targets], limit)
        errors += sum(1 for rows in results if rows != ROWS)
    return errors


def ours(devices: list[str], rounds: int, limit: int) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, errors) of our poller in this process."""
    start_cpu, start = time.process_time(), time.perf_counter()
    errors = client.run(poll_all(devices, rounds, limit))
    return time.process_time() - start_cpu, time.perf_counter() - start, errors


def _poll_share(job: tuple[list[str], int, int]) -> tuple[float, float, float, int]:
    """In a worker process: (CPU seconds, start, end, errors) of polling its share of the devices."""
    devices, rounds, limit = job
    start_cpu, start = time.process_time(), time.perf_counter()
    errors = client.run(poll_all(devices, rounds, limit))
    return time.process_time() - start_cpu, start, time.perf_counter(), errors


def ours_in_processes(devices: list[str], rounds: int, limit: int, processes: int) -> tuple[float, float, int]:
    """(CPU seconds of all workers, wall seconds from the first start to the last end, errors)."""
    shares = [(devices[i::processes], rounds, limit) for i in range(processes)]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        results = pool.map(_poll_share, shares)
    cpu = sum(result[0] for result in results)
    wall = max(result[2] for result in results) - min(result[1] for result in results)
    return cpu, wall, sum(result[3] for result in results)


def exporter(scraper: Exporter, devices: list[str], rounds: int, concurrency: int) -> tuple[float, float, int]:
    """(exporter CPU seconds, wall seconds, errors) of scraping every device `rounds` times."""
    start_cpu, start = scraper.cpu(), time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        answers = list(pool.map(scraper.scrape, devices * rounds))
    return scraper.cpu() - start_cpu, time.perf_counter() - start, answers.count(False)


def net_snmp_poll(address: str, env: dict[str, str]) -> bool:
    """snmpget sysUpTime.0 and snmpbulkwalk -Cr25 ifXTable as processes; whether the walk read every row."""
    common = ["-m", "", "-On", "-v2c", "-c", COMMUNITY, address]
    get = subprocess.run(["snmpget", *common, SYS_UPTIME], capture_output=True, env=env, check=False)
    walk = subprocess.run(["snmpbulkwalk", f"-Cr{MAX_REPETITIONS}", *common, IF_X_TABLE], capture_output=True,
                          env=env, check=False)
    return not get.returncode and walk.stdout.count(b"\n") == ROWS


def net_snmp(devices: list[str], rounds: int, concurrency: int, home: Path) -> tuple[float, float, int]:
    """(CPU seconds of the net-snmp processes, wall seconds, errors)."""
    (home / "conf").mkdir(exist_ok=True)  # no /etc/snmp: numeric OIDs, no MIB loading
    env = {**os.environ, "SNMPCONFPATH": str(home / "conf"), "SNMP_PERSISTENT_DIR": str(home / "persist")}
    start_cpu, start = children_cpu(), time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        answers = list(pool.map(lambda address: net_snmp_poll(address, env), devices * rounds))
    return children_cpu() - start_cpu, time.perf_counter() - start, answers.count(False)


def measure(tool: str, agent: Agent, devices: list[str], rounds: int,
            poll: Callable[[], tuple[float, float, int]]) -> Run:
    """Run `poll` and count what the agent saw meanwhile."""
    packets, agent_cpu = agent.packets(), agent.cpu()
    cpu, wall, errors = poll()
    pdus = agent.packets() - packets - 1  # the second count's own request
    return Run(tool, len(devices) * rounds, pdus, wall, cpu, agent.cpu() - agent_cpu, errors)


# --- report ---------------------------------------------------------------------------------------------------

HEADER = (f"{'tool':<44} {'polls':>5} {'PDUs':>6} {'PDUs/s':>6} {'polls/s':>7} {'CPU s':>5} "
          f"{'CPU s/1k PDUs':>13} {'CPU ms/poll':>11} {'vs exporter':>11} {'devices/core/min':>16} "
          f"{'cores used':>10} {'snmpd ms/poll':>13} {'errors':>6}")


def report(run: Run, baseline: Run) -> None:
    per_poll = run.cpu / run.polls * 1000
    ratio = per_poll / (baseline.cpu / baseline.polls * 1000)
    print(f"{run.tool:<44} {run.polls:5d} {run.pdus:6d} {run.pdus / run.wall:6.0f} {run.polls / run.wall:7.1f} "
          f"{run.cpu:5.2f} {run.cpu / run.pdus * 1000:13.3f} {per_poll:11.2f} {ratio:10.2f}x "
          f"{60_000 / per_poll:16.0f} {run.cpu / run.wall:10.2f} {run.agent_cpu / run.polls * 1000:13.2f} "
          f"{run.errors:6d}", flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=at_least(1), default=200, help="simulated devices (default 200)")
    parser.add_argument("--rounds", type=at_least(1), default=3, help="polls of every device per tool (default 3)")
    parser.add_argument("--limit", type=at_least(1), default=client.DEFAULT_CONCURRENCY,
                        help=f"our devices in flight per process (default {client.DEFAULT_CONCURRENCY})")
    parser.add_argument("--concurrency", type=at_least(1), default=8,
                        help="scrapes / net-snmp polls in flight for the others (default 8)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    enter_private_network()
    devices = addresses(args.devices)
    with tempfile.TemporaryDirectory(prefix="snmp-bench-") as directory:
        home = Path(directory)
        agent = Agent(home)
        scraper = Exporter(home)
        try:
            client.run(poll_all(devices, 1, args.limit))  # warm the agent's caches before anything is timed
            print(f"one poll = GET sysUpTime.0 + GETBULK walk of ifXTable (max-repetitions {MAX_REPETITIONS}, "
                  f"{ROWS} varbinds) from net-snmp snmpd; {len(devices)} devices x {args.rounds} rounds per tool; "
                  f"{os.cpu_count()} CPUs shared with snmpd")
            print(HEADER)
            baseline = measure(f"prometheus-snmp-exporter {scraper.version} (baseline)", agent, devices, args.rounds,
                               lambda: exporter(scraper, devices, args.rounds, args.concurrency))
            report(baseline, baseline)
            report(measure(f"snmp.client, 1 process, {args.limit} in flight", agent, devices, args.rounds,
                           lambda: ours(devices, args.rounds, args.limit)), baseline)
            report(measure(f"snmp.client, 2 processes, {args.limit} in flight each", agent, devices, args.rounds,
                           lambda: ours_in_processes(devices, args.rounds, args.limit, 2)), baseline)
            report(measure("net-snmp snmpget + snmpbulkwalk processes", agent, devices, args.rounds,
                           lambda: net_snmp(devices, args.rounds, args.concurrency, home)), baseline)
        finally:
            scraper.stop()
            agent.stop()
    print("CPU: the client's alone (the exporter's includes serving /metrics). devices/core/min: polls one core "
          "could make in a minute at that CPU cost. cores used: client CPU / wall time. snmpd ms/poll: the agent's CPU "
          "meanwhile, on the same two cores. polls/s of the 2-process row: devices polled per second by both together.")


if __name__ == "__main__":
    main()
