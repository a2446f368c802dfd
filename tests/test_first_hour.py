"""The first hour, as a new operator lives it: a fresh clone, `make run`, then every command and request that the
README and docs/ show, as written, in a plain shell; at the end Ctrl-C stops everything `make run` started.

It all runs in a network namespace with nothing but its own loopback: a machine with no network at all (so the API
documentation must work offline, and no packet can leave), whose 127.0.0.1 ports 8000, 8428 and 6379 are free, so
the documented defaults are used as they are. An snmpd inside answers community `public` on 127.0.0.1:161, the
agent the README's SNMP walk-through assumes. The clone's `.venv` is a link to this checkout's: pip cannot reach
the package index from inside, and `make test` built that venv from the same requirements.txt.

Every ```sh and ```python block of README.md and docs/*.md is run (tests/doc_blocks.py), one shell per file (so a
`TOKEN=` set in one block serves the next; a Python block runs in that shell with the clone's `.venv/bin/python`
and reads what it exported), and checked by the entry of CHECKS that names it; a block that cannot run here is in NOT_RUN with the
reason. A new block without an entry, or an entry whose block is gone, fails the test.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.browser import render
from tests.doc_blocks import DOCS, ROOT, Block, documented_blocks, json_documents as _json
from tests.guide_checks import GUIDE_CHECKS
from tests.netns import NetnsUnavailable, isolated_namespace, run_in_namespace
from tests.snmp_agents import SnmpdAgent, _running, _snmpd_binary
from tests.worker import wait_for

BASE = "http://127.0.0.1:8000"

pytestmark = [pytest.mark.e2e]


def _check_devices_listed(out: str) -> None:
    listing = _json(out)[0]
    assert [d["address"] for d in listing["results"]] == ["127.0.0.2"], out
    assert listing["results"][0]["name"] == "127.0.0.2", "an address-only device is named by its address"


def _check_ping(out: str) -> None:
    assert _json(out)[0]["name"] == "r1", out
    assert re.search(r"r1 \(127\.0\.0\.3\): 5/5 received, loss 0%, rtt min/avg/max [\d.]+/[\d.]+/[\d.]+ ms", out, re.M)
    assert re.search(r"^127\.0\.0\.2: 5/5 received", out, re.M), out


def _check_snmp(out: str) -> None:
    credential, device = _json(out)[:2]
    assert credential["name"] == "lab" and "community" not in credential, out  # secrets are write-only
    assert device["snmp_credential"] == "lab", out  # taken by name, shown by name
    assert f"1.3.6.1.2.1.1.5.0 = OCTETS: {SnmpdAgent.sys_name}" in out
    assert re.search(r"^1\.3\.6\.1\.2\.1\.1\.1\.0 = OCTETS: Linux", out, re.M), out  # sysDescr.0
    assert re.search(r"^1\.3\.6\.1\.2\.1\.1\.3\.0 = TIMETICKS: \d+", out, re.M), out
    assert "1.3.6.1.2.1.2.2.1.2.1 = OCTETS: lo" in out  # the walk of ifDescr
    assert "samples written" in out, out  # snmp_poll


def _check_discover(out: str) -> None:
    line = next((line for line in out.splitlines() if line.startswith("127.0.0.1 ")), "")
    assert "lab" in line and "localhost" in line, out  # the credential that worked, the device it already is
    assert re.search(r"^3 addresses, 3 alive, 1 SNMP", out, re.M), out


def _check_templates(out: str) -> None:
    assert "(version " in out, out  # import_template names what it created
    status = _json(out)[-2]
    rows = status["results"] if isinstance(status, dict) else status
    by_address = {row["address"]: row for row in rows}
    assert by_address["127.0.0.2"]["state"] == "up", out
    active = _json(out)[-1]  # a page like every list, most severe first (docs/api.md); every device here is up
    assert (active["count"], active["results"]) == (0, []), out


def _check_api_root_and_pages(out: str) -> None:
    root, page = _json(out)[:2]
    assert {"devices", "monitoring/icmp/status", "monitoring/alerts/active", "docs"} <= set(root), root
    assert page["count"] >= 3 and len(page["results"]) == 2 and page["next"], page


def _check_bad_name_is_a_400(out: str) -> None:
    assert _json(out)[0] == {"group": ["No device group has the name or id 'no-such-group'."]}, out


def _check_availability(out: str) -> None:
    report = _json(out)[0]
    assert report["by"] == "group" and report["results"], out
    assert sum(row["devices"] for row in report["results"]) >= 2, out
    assert all(row["availability_percent"] in (100.0, None) for row in report["results"]), out  # loopback answers
    assert "name,devices,availability_percent,downtime_minutes,incidents,mttr_minutes,monitored_minutes\n" in out, out


def _check_rotate(out: str) -> None:
    assert "All secrets are encrypted with the newest key." in out, out


# (file, a text only its block holds) -> what the block's output must show (exit status 0 is checked for all)
CHECKS: dict[tuple[str, str], Callable[[str], None]] = {
    ("README.md", "create_api_token admin"): _check_devices_listed,
    ("README.md", "manage.py ping r1"): _check_ping,
    ("README.md", "manage.py snmp_get localhost"): _check_snmp,
    ("README.md", "manage.py discover 127.0.0.1-3"): _check_discover,
    ("README.md", "manage.py import_template"): _check_templates,
    ("docs/configuration.md", "manage.py rotate_secrets"): _check_rotate,
    ("docs/api.md", "?limit=2&offset=0"): _check_api_root_and_pages,
    ("docs/api.md", "no-such-group"): _check_bad_name_is_a_400,
    ("docs/alerts.md", "reports/availability"): _check_availability,
    **GUIDE_CHECKS,
}
NOT_RUN: dict[tuple[str, str], str] = {
    ("README.md", "make run    #"): "this test runs `make run` itself, exactly so; `make test` is what runs this test",
    ("README.md", "docker compose up -d"): "no Docker engine runs on this machine kind (only the client)",
    ("README.md", "manage.py monitor"): "long-running processes; `make run` runs the same worker and beat, and "
                                        "their --help is checked below",
    ("docs/alerts.md", 'register(Channel("pagerduty"'): "one line of a channel module that does not exist, an example; "
                                                      "every channel in alerts/notifications/channels/ registers so",
    ("docs/architecture.md", "device_page.add_inlines(PingSettingsInline"): "icmp/admin.py shortened (`...`), not a "
                                                                            "program; icmp/admin.py is what runs",
    ("docs/deploy.md", "useradd --system"): "installs system-wide (a user, /opt, /etc, apt) and starts the units, which "
                                            "needs systemd as PID 1 (here it is not); tests/test_systemd_units.py "
                                            "verifies the units with systemd-analyze",
    ("docs/deploy.md", "pg_dump --format=custom"): "needs PostgreSQL (make run here keeps SQLite): "
                                                   "tests/test_backup_restore.py runs this block as written",
    ("docs/deploy.md", "pg_restore --clean"): "needs PostgreSQL, and VictoriaMetrics stopped: "
                                              "tests/test_backup_restore.py runs this block as written",
}


def _key(block: Block, table: dict) -> tuple[str, str] | None:
    return next((key for key in table if key[0] == block.file and key[1] in block.text), None)


def test_every_documented_block_has_a_check_and_every_check_a_block():
    blocks = documented_blocks()
    unchecked = [b.first_line for b in blocks if _key(b, CHECKS) is None and _key(b, NOT_RUN) is None]
    assert not unchecked, f"documented commands with no check in {__name__}: {unchecked}"
    matches = {key: sum(1 for b in blocks if _key(b, {key: 0})) for key in [*CHECKS, *NOT_RUN]}
    assert all(n == 1 for n in matches.values()), f"each check must name exactly one documented block: {matches}"


def test_every_manage_py_command_the_docs_name_exists():
    names = {m for name in DOCS for m in re.findall(r"manage\.py (\w+)", (ROOT / name).read_text())}
    names |= {m.split()[0] for name in DOCS for m in re.findall(r"^- `(\w+)(?: [A-Z]+)?`", (ROOT / name).read_text(),
                                                                 re.M) if name == "README.md"}
    from django.core.management import get_commands

    assert names and names <= set(get_commands()), names - set(get_commands())


# --- the stack ----------------------------------------------------------------------------------------------------

def _plain_shell(namespace: str) -> list[str]:
    """A login-less shell as an operator has it: PATH and HOME, nothing else exported."""
    env = [f"PATH={os.environ['PATH']}:/usr/sbin:/sbin", f"HOME={os.environ.get('HOME', '/root')}", "LANG=C.UTF-8"]
    return ["ip", "netns", "exec", namespace, "env", "-i", *env]


def _clone(dest: Path) -> Path:
    """A clone of this repository with this checkout's uncommitted and new files on top (none on CI)."""
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(dest)], check=True)
    changed = subprocess.run(["git", "ls-files", "-z", "--modified", "--others", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, changed):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    deleted = subprocess.run(["git", "ls-files", "-z", "--deleted"], cwd=ROOT, capture_output=True,
                             check=True).stdout.decode().split("\0")
    for name in filter(None, deleted):
        (dest / name).unlink(missing_ok=True)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    return dest


@dataclass
class Instance:
    namespace: str
    checkout: Path
    log: Path
    password: str

    def http(self, fn: Callable[[], object]) -> object:
        return run_in_namespace(self.namespace, fn)

    def shell(self, script: str, timeout: float = 180) -> subprocess.CompletedProcess:
        return subprocess.run([*_plain_shell(self.namespace), "bash", "-c", script], cwd=self.checkout,
                              capture_output=True, text=True, timeout=timeout)

    def port_open(self, port: int) -> bool:
        def probe() -> bool:
            with socket.socket() as sock:
                return sock.connect_ex(("127.0.0.1", port)) == 0
        return bool(self.http(probe))


@pytest.fixture(scope="module")
def instance(tmp_path_factory) -> Iterator[Instance]:
    try:
        namespace_cm = isolated_namespace("-fh")
        namespace = namespace_cm.__enter__()
    except NetnsUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"namespace unavailable in CI: {exc}")
        pytest.skip(str(exc))
    base = tmp_path_factory.mktemp("first-hour")
    try:
        routes = subprocess.run(["ip", "-n", namespace, "-o", "route", "show", "table", "all"], capture_output=True,
                                text=True, check=True).stdout
        assert not [r for r in routes.splitlines() if " dev lo " not in f" {r} "], f"a way out of the box: {routes}"
        checkout = _clone(base / "wardflux")
        agent = SnmpdAgent(_snmpd_binary(), base / "snmpd", 161, netns=namespace)
        for _ in _running(agent):
            log = base / "make-run.log"
            with log.open("w") as out:
                proc = subprocess.Popen([*_plain_shell(namespace), "make", "run"], cwd=checkout, stdout=out,
                                        stderr=subprocess.STDOUT, start_new_session=True)
            try:
                wait_for(lambda: "WARD FLUX is up" in log.read_text() or proc.poll() is not None, 240,
                         "make run to start")
                assert proc.poll() is None, log.read_text()[-3000:]
                password = re.search(r"Created superuser 'admin' with password: (\S+)", log.read_text()).group(1)
                yield Instance(namespace, checkout, log, password)
            finally:
                os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
                proc.wait(timeout=60)
            stopped = Instance(namespace, checkout, log, "")
            assert not stopped.port_open(8000) and not stopped.port_open(8428) and not stopped.port_open(6379), \
                "make run left services running after Ctrl-C"
            with pytest.raises(ProcessLookupError):  # nothing of its process group (worker, beat, ...) is left
                wait_for(lambda: os.killpg(proc.pid, 0) is not None, 20, "every process make run started to exit")
    finally:
        namespace_cm.__exit__(None, None, None)


# --- the admin, as a browser uses it ------------------------------------------------------------------------------

def _login(password: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{BASE}/admin/login/")
    response = session.post(
        f"{BASE}/admin/login/?next=/admin/",
        data={"username": "admin", "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": f"{BASE}/admin/login/"},
    )
    assert response.url.endswith("/admin/"), "admin login failed"
    return session


def _hidden_fields(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))


def _add_device_by_address(session: requests.Session, address: str) -> requests.Response:
    """The add form as a browser posts it, with only the address typed in (and the defaults the form shows)."""
    form = session.get(f"{BASE}/admin/devices/device/add/").text
    data = {**_hidden_fields(form), "address": address, "device_type": "server", "source": "local",
            "snmp_port": "161", "icmp_enabled": "on"}
    return session.post(f"{BASE}/admin/devices/device/add/", data=data,
                        headers={"Referer": f"{BASE}/admin/devices/device/add/"})


def _device_row(session: requests.Session, name: str) -> str:
    page = session.get(f"{BASE}/admin/devices/device/").text
    row = re.search(rf"<tr>(?:(?!</tr>).)*>{re.escape(name)}<(?:(?!</tr>).)*</tr>", page, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row.group(0))) if row else ""


@pytest.fixture(scope="module")
def admin_device(instance: Instance) -> str:
    """The README's first step: *Devices -> Add*, address 127.0.0.2; it shows Up with RTT and loss."""
    def add_and_wait() -> str:
        session = _login(instance.password)
        index = session.get(f"{BASE}/admin/").text
        assert "Device down" in index and "nobody" in index.lower(), "the setup checklist is missing"
        response = _add_device_by_address(session, "127.0.0.2")
        assert response.url.endswith("/admin/devices/device/"), "device was not saved from its address alone"
        return wait_for(lambda: (r := _device_row(session, "127.0.0.2")) and " Up " in r and r, 30,
                        "127.0.0.2 to show Up")
    return instance.http(add_and_wait)


def test_a_device_added_by_address_alone_shows_up_with_rounded_figures(admin_device):
    # state, then RTT rounded to 0.01 ms and loss to 0.1 % (a whole number bare); nothing marks a steady device
    assert re.search(r" Up .* \d+\.\d\d (0|100|\d+\.\d) ", admin_device), admin_device
    assert not re.search(r"\d\.\d{4,}", admin_device), f"unrounded figures: {admin_device}"
    assert "flapping" not in admin_device.lower() and "✖" not in admin_device


@pytest.mark.timeout(900)  # every documented command: scans, waits for an alert, starts make run when first
def test_every_documented_command_works_as_written(instance, admin_device):
    failures = []
    for name in DOCS:
        blocks = [b for b in documented_blocks() if b.file == name and _key(b, NOT_RUN) is None]
        if not blocks:
            continue
        script = "".join(f"echo '@@block {i}@@'\n{b.as_shell()}\necho \"@@exit {i} $?@@\"\n"
                         for i, b in enumerate(blocks))
        done = instance.shell(script, timeout=420)
        outputs = re.split(r"^@@block \d+@@$", done.stdout, flags=re.M)[1:]
        assert len(outputs) == len(blocks), f"{name}: the shell stopped early:\n{done.stdout}\n{done.stderr}"
        for i, (block, out) in enumerate(zip(blocks, outputs)):
            status = int(re.search(rf"@@exit {i} (\d+)@@", out).group(1))
            try:
                assert status == 0, f"exit status {status}"
                CHECKS[_key(block, CHECKS)](out)
            except Exception as exc:  # noqa: BLE001 - every block's failure is reported, not only the first
                failures.append(f"{name}: {block.first_line}\n  {exc}\n  output:\n{out}\n  stderr:\n{done.stderr}")
    assert not failures, "\n\n".join(failures)


def test_every_documented_command_has_working_help(instance):
    names = sorted({m for name in DOCS for m in re.findall(r"manage\.py (\w+)", (ROOT / name).read_text())})
    commands = [f".venv/bin/python manage.py {n} --help >/dev/null && echo 'ok {n}'" for n in names]
    commands.append(".venv/bin/celery -A wardsite worker --help >/dev/null && echo 'ok celery worker'")
    # two at a time (the machine's two cores): each is a Python start-up, a second or more here
    done = instance.shell("xargs -P 2 -d '\\n' -I CMD bash -c CMD <<'EOF'\n" + "\n".join(commands) + "\nEOF\n")
    missing = [n for n in [*names, "celery worker"] if f"ok {n}" not in done.stdout]
    assert not missing, done.stderr


def test_the_api_documentation_renders_with_no_network(instance):
    """The docs page as a browser logged in to the admin sees it (it needs a login, and so does the schema)."""
    chromium = shutil.which("chromium")
    assert chromium, "chromium is not installed: make test installs it (Debian package chromium)"
    cookies = instance.http(lambda: _login(instance.password).cookies.get_dict())
    dom, ready = render(_plain_shell(instance.namespace), chromium, f"{BASE}/api/v1/docs/", cookies,
                        "document.querySelectorAll('.opblock').length > 20", str(instance.checkout / "var" / "chromium"))
    # Swagger UI built the page from the schema: one operation block per route, the devices list among them
    assert ready and dom.count('class="opblock ') > 20, dom[-2000:]
    assert "/api/v1/devices/" in dom and "/api/v1/auth/login" in dom
    anonymous = instance.http(lambda: requests.get(f"{BASE}/api/v1/docs/", allow_redirects=False))
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous.headers["Location"]


def test_the_log_tells_an_operator_what_matters(instance, admin_device):
    log = instance.log.read_text()
    assert re.search(r"INFO devices\.services: 127\.0\.0\.2 is up \(was unknown\)", log), log[-3000:]
    chatter = [line for line in log.splitlines() if re.search(r"Task \S+\[[0-9a-f-]+\] (received|succeeded)", line)
               or "Sending due task" in line or '"GET /' in line]
    assert not chatter, chatter[:5]


def test_commands_talk_to_the_running_instance(instance):
    """`manage.py` in the checkout reads var/: the generated keys, and the Redis and VictoriaMetrics make run
    started (nothing else listens in this namespace)."""
    done = instance.shell(".venv/bin/python manage.py shell --no-imports -c \"from django.conf import settings as s; "
                          "print(s.VICTORIA_URL, s.REDIS_URL, bool(s.SECRET_KEY))\"")
    assert done.stdout.split() == ["http://127.0.0.1:8428", "redis://127.0.0.1:6379/0", "True"], done.stderr


def test_the_snmp_worker_of_make_run_polls_a_device_on_its_schedule(instance):
    """make run's snmp worker takes the dispatched batches: only a scheduled poll (not `snmp_poll`, which polls at
    once in its own process) writes `snmp_poll_delay_seconds`."""
    done = instance.shell(
        ".venv/bin/python manage.py shell --no-imports -c \"from devices.models import Device; "
        "from snmp.models import SNMPCredential; "
        "c, _ = SNMPCredential.objects.get_or_create(name='lab', defaults={'community': 'public'}); "
        "d, _ = Device.objects.get_or_create(address='127.0.0.1', defaults={'name': 'localhost'}); "
        "d.snmp_credential, d.snmp_enabled = c, True; d.save(); print(d.name)\"")
    name = done.stdout.strip()
    assert done.returncode == 0 and name, done.stderr

    def scheduled_polls() -> list:
        query = f'snmp_poll_delay_seconds{{device="{name}"}}'
        return requests.get("http://127.0.0.1:8428/api/v1/query", params={"query": query},
                            timeout=5).json()["data"]["result"]

    polled = instance.http(lambda: wait_for(scheduled_polls, 60, f"a scheduled SNMP poll of {name}", interval=1))
    assert float(polled[0]["value"][1]) >= 0
