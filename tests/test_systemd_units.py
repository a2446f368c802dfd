"""deploy/systemd/ (docs/deploy.md, "systemd"): units systemd accepts, starting exactly what `make run` starts.

PID 1 here is not systemd, so the units are not started; `systemd-analyze verify` loads each as systemd would
(syntax, specifiers, that every ExecStart program exists and is executable), with the checkout in this repository's
place and the environment file in a temporary one."""
from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests import make_run

ROOT = Path(__file__).resolve().parent.parent
UNITS = ROOT / "deploy" / "systemd"
CHECKOUT, ENV_FILE = "/opt/wardflux", "/etc/wardflux/wardflux.env"
PROCESS_UNITS = {"web": "wardflux-web", "icmp worker": "wardflux-worker-icmp", "snmp worker": "wardflux-worker-snmp",
                 "worker": "wardflux-worker", "beat": "wardflux-beat"}


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, comment_prefixes=("#",))
    parser.optionxform = str  # keys are case-sensitive in systemd
    parser.read_string((UNITS / name).read_text())
    return parser


def _exec_start(name: str) -> list[str]:
    """The unit's command as the process gets it: systemd's `%%` is a `%`, the venv path as make run has it."""
    line = _unit(f"{name}.service")["Service"]["ExecStart"]
    assert "%" not in line.replace("%%", ""), f"{name}: a systemd specifier (celery's %h is written %%h): {line}"
    argv = shlex.split(line.replace("%%", "%"))
    return [argv[0].removeprefix(f"{CHECKOUT}/.venv/bin/"), *argv[1:]]


def test_systemd_accepts_every_unit(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is missing (Debian package systemd)", pytrace=False)
    (tmp_path / "wardflux.env").write_text("REDIS_URL=redis://127.0.0.1:6379/0\n")
    for unit in UNITS.iterdir():
        text = unit.read_text().replace(ENV_FILE, str(tmp_path / "wardflux.env")).replace(CHECKOUT, str(ROOT))
        (tmp_path / unit.name).write_text(text)
    names = sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".service", ".target"))
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", *names], cwd=tmp_path, capture_output=True,
                          text=True)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    assert len(names) == len(PROCESS_UNITS) + 2, names  # and the migrate unit and the target


def test_each_unit_starts_what_make_run_starts():
    expected = make_run.processes(8000, Path(f"{CHECKOUT}/var/celerybeat-schedule"))
    assert {name: _exec_start(unit) for name, unit in PROCESS_UNITS.items()} == expected


def test_the_target_starts_every_unit_and_each_waits_for_the_migrations():
    wants = _unit("wardflux.target")["Unit"]["Wants"].split()
    assert sorted(wants) == sorted(f"{unit}.service" for unit in PROCESS_UNITS.values())
    assert _unit("wardflux-migrate.service")["Service"]["Type"] == "oneshot"
    assert f"ExecStart={CHECKOUT}/.venv/bin/python manage.py migrate --no-input\n" in (
        UNITS / "wardflux-migrate.service").read_text()  # one ExecStart per command: configparser keeps the last
    for unit in PROCESS_UNITS.values():
        section = _unit(f"{unit}.service")
        assert section["Unit"]["Requires"] == "wardflux-migrate.service", unit
        assert "wardflux-migrate.service" in section["Unit"]["After"].split(), unit
        assert section["Service"]["User"] == "wardflux" and section["Service"]["EnvironmentFile"] == ENV_FILE, unit
