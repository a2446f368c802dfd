"""`make run` as a user runs it: the stack comes up, a device added in the admin turns up, Ctrl-C stops it all."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.services import free_port
from tests.worker import wait_for

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.e2e]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def login(base: str, password: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{base}/admin/login/")
    response = session.post(
        f"{base}/admin/login/?next=/admin/",
        data={"username": "admin", "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": f"{base}/admin/login/"},
    )
    assert response.url.endswith("/admin/"), "admin login failed"
    return session


def add_device(session: requests.Session, base: str, name: str, address: str) -> None:
    form = session.get(f"{base}/admin/devices/device/add/").text
    # the CSRF token and the inlines' management forms, as the browser would send them
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    response = session.post(
        f"{base}/admin/devices/device/add/",
        data={**hidden, "name": name, "address": address, "device_type": "server",
              "source": "local", "snmp_port": "161", "icmp_enabled": "on"},
        headers={"Referer": f"{base}/admin/devices/device/add/"},
    )
    assert response.url.endswith("/admin/devices/device/"), "device was not saved"


def device_row(session: requests.Session, base: str, name: str) -> str:
    page = session.get(f"{base}/admin/devices/device/").text
    row = re.search(rf"<tr>(?:(?!</tr>).)*>{re.escape(name)}<(?:(?!</tr>).)*</tr>", page, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row.group(0))) if row else ""


def test_make_run_brings_the_stack_up_and_ctrl_c_stops_it(tmp_path):
    web_port, vm_port = free_port(), free_port()
    env = {**os.environ, "PORT": str(web_port), "VICTORIA_PORT": str(vm_port),
           "WARDFLUX_VAR_DIR": str(tmp_path / "var"), "REDIS_URL": "redis://127.0.0.1:6379/13"}
    for name in ("DATABASE_URL", "SECRET_KEY", "FERNET_KEYS"):  # as on a fresh machine: SQLite, generated keys
        env.pop(name, None)
    log = tmp_path / "run.log"
    with log.open("w") as out:
        proc = subprocess.Popen(["make", "run"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        wait_for(lambda: "WARD FLUX is up" in log.read_text() or proc.poll() is not None, 180, "make run to start")
        output = log.read_text()
        assert proc.poll() is None, output[-3000:]
        password = re.search(r"Created superuser 'admin' with password: (\S+)", output).group(1)
        base = f"http://127.0.0.1:{web_port}"
        session = login(base, password)
        add_device(session, base, "lo-2", "127.0.0.2")
        row = wait_for(lambda: (r := device_row(session, base, "lo-2")) and " Up " in r and r, 30, "lo-2 to show Up")
        assert re.search(r" Up .* \d+\.\d+ 0 ", row), row  # state, then RTT and 0 % loss
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        proc.wait(timeout=60)
    assert not port_open(web_port) and not port_open(vm_port), "make run left services running after Ctrl-C"
    with pytest.raises(ProcessLookupError):  # nothing of its process group (worker, beat, ...) is left
        wait_for(lambda: os.killpg(proc.pid, 0) is not None, 20, "every process make run started to exit")
