"""The image and docker-compose.yml, read as files (no Docker engine runs here): the processes run unprivileged,
ICMP works without raw sockets, and nothing secret is copied into the image."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests import make_run

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("migrate", "web", "worker-icmp", "worker-snmp", "worker", "beat")


def test_the_image_runs_as_an_unprivileged_user_that_owns_only_its_var_dir():
    dockerfile = (ROOT / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert users and users[-1] == "10001:10001", users
    assert "useradd --system --uid 10001 --gid wardflux" in dockerfile
    assert "chown wardflux:wardflux /var/lib/wardflux" in dockerfile and "chown -R" not in dockerfile


def test_every_app_container_may_ping_with_datagram_sockets_and_is_told_about_https():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name in APP_SERVICES:
        assert services[name]["sysctls"] == {"net.ipv4.ping_group_range": "0 2147483647"}, name
        assert "user" not in services[name], f"{name}: the image's user, not another"
        assert {"HTTPS_ONLY", "SECURE_PROXY_SSL_HEADER"} <= set(services[name]["environment"]), name


def test_local_keys_and_environment_files_stay_out_of_the_image():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {"var", ".env", ".venv", ".git"} <= ignored


def _flags(words: list[str]) -> dict[str, str]:
    """-name=value flags, without those naming where a process listens, keeps its data and logs."""
    local = {"httpListenAddr", "storageDataPath", "loggerLevel"}
    found = dict(word.lstrip("-").split("=", 1) for word in words if word.startswith("-") and "=" in word)
    return {name: value for name, value in found.items() if name not in local}


def _lib_command(program: str) -> list[str]:
    """The words of scripts/lib.sh's `program` command line (continuation lines joined, up to a redirection)."""
    lib = (ROOT / "scripts" / "lib.sh").read_text().replace("\\\n", " ")
    return re.search(rf"^\s*{program} (.*?)(?:>|&|$)", lib, re.M).group(1).split()


def test_the_compose_victoriametrics_runs_with_the_flags_of_make_run_and_the_benches():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["victoriametrics"]["command"]
    assert _flags(_lib_command("victoria-metrics")) == _flags(compose) == _flags(list(make_run.VICTORIA_FLAGS))
    assert _flags(compose)["search.latencyOffset"] == "0s"


def _options(words: list[str]) -> dict[str, str]:
    """--name value options of a redis-server command line, without where it listens, keeps data and logs."""
    words = [word for word in words if not word.startswith("redis-server")]
    pairs = dict(zip(words[::2], words[1::2]))
    return {name: value for name, value in pairs.items() if name not in {"--bind", "--port", "--dir", "--logfile"}}


def test_the_compose_redis_runs_with_the_options_of_make_run_and_the_benches():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["redis"]["command"]
    assert _options(_lib_command("redis-server")) == _options(compose) == _options(list(make_run.REDIS_OPTIONS))
    assert _options(compose)["--maxmemory-policy"] == "noeviction" and "--maxmemory" in _options(compose)


def test_compose_starts_the_workers_of_make_run_and_the_benches():
    run = (ROOT / "scripts" / "run.sh").read_text()
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    workers = {name: command for name, command in make_run.processes(8000, Path("s")).items() if "worker" in command}
    for name, compose_name in (("icmp worker", "worker-icmp"), ("snmp worker", "worker-snmp"), ("worker", "worker")):
        assert f'"$VENV/bin/celery" {" ".join(workers[name][1:])} &' in run, name
        assert services[compose_name]["command"] == workers[name], name
    # together they consume every queue: the dispatchers' and icmp queues, the snmp queue, and every other queue
    icmp, snmp, main = workers["icmp worker"], workers["snmp worker"], workers["worker"]
    consumed = f'{icmp[icmp.index("-Q") + 1]},{snmp[snmp.index("-Q") + 1]}'
    assert consumed == main[main.index("-X") + 1] == "dispatch,icmp,snmp"


def test_a_remote_poller_consumes_only_its_queue_and_reaches_the_central_services():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    poller, worker = services["poller"], services["worker"]
    assert poller["profiles"] == ["poller"]  # not started by a plain `docker compose up`
    queue = poller["command"][poller["command"].index("-Q") + 1]
    assert queue == "${POLLER_QUEUE:-poller}" and "," not in queue
    assert poller["depends_on"] == {}  # the central services are elsewhere
    pool = poller["command"][poller["command"].index("--pool") + 1]
    assert pool == "threads"  # batches that wait on the network, ICMP and SNMP: threads, as the central workers
    for name in ("DATABASE_URL", "REDIS_URL", "VICTORIA_URL"):
        assert "${CENTRAL_HOST:-" in poller["environment"][name], name
    assert set(poller["environment"]) == set(worker["environment"])  # the same settings otherwise
