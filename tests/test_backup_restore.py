"""docs/deploy.md, "Backups and restore": its backup and restore blocks run as written, with the install's paths
moved into a temporary directory, against a real PostgreSQL database of the test's own (migrated), a real
VictoriaMetrics and a real var/secrets.env. What changes after the backup is undone by the restore: a deleted
device and time series come back, and the stored SNMP community decrypts with the restored keys."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import dj_database_url
import psycopg2
import pytest
import requests

from tests.doc_blocks import ROOT, block_of
from tests.services import own_victoria

pytestmark = [pytest.mark.e2e]
SEED = ("from snmp.models import SNMPCredential; from devices.models import Device; "
        "c = SNMPCredential.objects.create(name='backup-ro', community='kept-secret'); "
        "Device.objects.create(name='backup-r1', address='127.0.0.77', snmp_credential=c)")
READ = ("from devices.models import Device; d = Device.objects.filter(name='backup-r1').first(); "
        "print(d and d.snmp_credential.community)")


def _on_server(url: str, sql: str) -> None:
    """Run `sql` on the server of `url` (its `postgres` database), outside a transaction."""
    params = dj_database_url.parse(url)
    connection = psycopg2.connect(dbname="postgres", user=params["USER"], password=params["PASSWORD"],
                                  host=params["HOST"], port=params["PORT"] or 5432)
    connection.autocommit = True
    try:
        connection.cursor().execute(sql)
    finally:
        connection.close()


@pytest.fixture
def database() -> Iterator[str]:
    """A database of this test's own on the suite's PostgreSQL server, dropped after."""
    server = os.environ["DATABASE_URL"]
    name = f"wardflux_backup_{uuid.uuid4().hex[:8]}"
    _on_server(server, f'CREATE DATABASE "{name}"')
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        _on_server(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _manage(var: Path, database_url: str, *args: str) -> str:
    env = {**os.environ, "WARDFLUX_VAR_DIR": str(var), "DATABASE_URL": database_url,
           "VICTORIA_URL": "http://127.0.0.1:9"}  # nothing there: migrate's retention check only warns
    env.pop("SECRET_KEY"), env.pop("FERNET_KEYS")  # the keys are var/secrets.env's, as on an install
    done = subprocess.run([str(ROOT / ".venv/bin/python"), "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _new_keys(var: Path) -> None:
    from cryptography.fernet import Fernet

    var.mkdir(parents=True, exist_ok=True)
    (var / "secrets.env").write_text(f"SECRET_KEY=test-{uuid.uuid4().hex}\nFERNET_KEYS={Fernet.generate_key().decode()}\n")


def _run_block(holding: str, paths: dict[str, Path]) -> None:
    script = block_of("docs/deploy.md", holding).text
    for documented, here in paths.items():
        script = script.replace(documented, str(here))
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{script}\n{done.stdout}\n{done.stderr}"


def _samples(url: str) -> list:
    answer = requests.get(f"{url}/api/v1/query", params={"query": "wardflux_backup_probe"}, timeout=10)
    return answer.json()["data"]["result"]


def test_the_documented_backup_and_restore_bring_everything_back(tmp_path, database):
    checkout, backups = tmp_path / "wardflux", tmp_path / "backups"
    _new_keys(checkout / "var")
    _manage(checkout / "var", database, "migrate", "--no-input", "-v", "0")
    _manage(checkout / "var", database, "shell", "--no-imports", "-c", SEED)
    with own_victoria(tmp_path / "victoria") as victoria:
        requests.post(f"{victoria.url}/api/v1/import/prometheus", timeout=10,
                      data=f"wardflux_backup_probe 42 {int(time.time() * 1000)}\n").raise_for_status()
        victoria.flush()
        (tmp_path / "wardflux.env").write_text(f"DATABASE_URL={database}\nVICTORIA_URL={victoria.url}\n")
        paths = {"/opt/wardflux": checkout, "/etc/wardflux/wardflux.env": tmp_path / "wardflux.env",
                 "/var/backups/wardflux": backups, "/var/lib/victoria-metrics": victoria.data_dir}
        _run_block("pg_dump --format=custom", paths)
        (backup,) = backups.iterdir()
        assert (backup / "config.dump").stat().st_size and (backup / "secrets.env").stat().st_mode & 0o777 == 0o600

        # everything lost after the backup: the device, the keys, the time series
        _manage(checkout / "var", database, "shell", "--no-imports", "-c",
                "from devices.models import Device; Device.objects.filter(name='backup-r1').delete()")
        _new_keys(checkout / "var")
        victoria.stop()
        shutil.rmtree(victoria.data_dir)
        _run_block("pg_restore --clean", paths)
        victoria.start()
        assert float(_samples(victoria.url)[0]["value"][1]) == 42
    assert _manage(checkout / "var", database, "shell", "--no-imports", "-c", READ).strip() == "kept-secret"
