"""Start-up refuses malformed configuration with a message naming the variable."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD_FERNET = "dGhpcy1pcy1hLXRlc3Qtb25seS1mZXJuZXQta2V5ISE="


def start(**overrides: str | None) -> subprocess.CompletedProcess:
    """Run `manage.py check` with the test environment plus `overrides` (None removes a variable)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "wardsite.settings"}
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_it_starts_with_the_test_environment():
    result = start()
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("REDIS_URL", "localhost:6379", "REDIS_URL='localhost:6379' is not a valid URL"),
        ("VICTORIA_URL", "http://127.0.0.1:notaport", "VICTORIA_URL='http://127.0.0.1:notaport' has an invalid port"),
        ("ICMP_PACKETS", "three", "ICMP_PACKETS='three' is not an integer"),
        ("ICMP_DOWN_AFTER", "0", "ICMP_DOWN_AFTER=0 is below the minimum 1"),
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
        ("FERNET_KEYS", f"{GOOD_FERNET},not-a-key", "FERNET_KEYS: key #2 is not a Fernet key"),
        ("DATABASE_URL", "nosuchdb://x/y", "DATABASE_URL='nosuchdb://x/y' is not a valid database URL"),
    ],
)
def test_it_refuses_a_malformed_variable(name, value, message):
    result = start(**{name: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_it_refuses_production_without_secret_key():
    result = start(SECRET_KEY=None, DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_it_refuses_production_without_fernet_keys():
    result = start(FERNET_KEYS=None, DEBUG="0")
    assert result.returncode != 0
    assert "FERNET_KEYS is not set" in result.stderr


def test_it_uses_development_defaults_only_in_debug():
    result = start(SECRET_KEY=None, FERNET_KEYS=None, DEBUG="1")
    assert result.returncode == 0, result.stderr


def test_it_defaults_to_an_embedded_sqlite_database(tmp_path):
    env = {**os.environ, "WARDFLUX_VAR_DIR": str(tmp_path / "var")}
    env.pop("DATABASE_URL")
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "var" / "wardflux.sqlite3").stat().st_size > 0


def settings_seen(var: Path, **overrides: str | None) -> subprocess.CompletedProcess:
    """What the settings hold when `manage.py` runs with `var` as WARDFLUX_VAR_DIR."""
    code = "from django.conf import settings as s; print(s.SECRET_KEY, s.FERNET_KEYS[0], s.REDIS_URL, s.VICTORIA_URL)"
    env = {**os.environ, "WARDFLUX_VAR_DIR": str(var), "DJANGO_SETTINGS_MODULE": "wardsite.settings"}
    for name in ("SECRET_KEY", "FERNET_KEYS", "REDIS_URL", "VICTORIA_URL", *overrides):
        env.pop(name, None)
    env.update({name: value for name, value in overrides.items() if value is not None})
    return subprocess.run([sys.executable, "manage.py", "shell", "--no-imports", "-c", code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_it_reads_the_keys_and_instance_make_run_keeps_in_var(tmp_path):
    (tmp_path / "secrets.env").write_text(f"SECRET_KEY=from-the-file\nFERNET_KEYS={GOOD_FERNET}\n")
    (tmp_path / "instance.env").write_text("# written by make run\n\nREDIS_URL=redis://127.0.0.1:6379/7\n"
                                           "VICTORIA_URL=http://127.0.0.1:18428\n")
    result = settings_seen(tmp_path, DEBUG="0")
    assert result.stdout.split() == ["from-the-file", GOOD_FERNET, "redis://127.0.0.1:6379/7",
                                     "http://127.0.0.1:18428"], result.stderr


def test_the_environment_wins_over_the_files_in_var(tmp_path):
    (tmp_path / "secrets.env").write_text(f"SECRET_KEY=from-the-file\nFERNET_KEYS={GOOD_FERNET}\n")
    (tmp_path / "instance.env").write_text("REDIS_URL=redis://127.0.0.1:6379/7\n")
    result = settings_seen(tmp_path, SECRET_KEY="from-the-environment", REDIS_URL="redis://127.0.0.1:6379/3")
    assert result.stdout.split()[0] == "from-the-environment", result.stderr
    assert result.stdout.split()[2] == "redis://127.0.0.1:6379/3"


def test_it_still_refuses_production_without_keys_when_var_has_none(tmp_path):
    (tmp_path / "instance.env").write_text("REDIS_URL=redis://127.0.0.1:6379/7\n")
    result = settings_seen(tmp_path, DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_it_names_the_file_and_line_of_a_malformed_var_file(tmp_path):
    (tmp_path / "secrets.env").write_text(f"SECRET_KEY=x\nFERNET_KEYS {GOOD_FERNET}\n")
    result = settings_seen(tmp_path)
    assert result.returncode != 0
    assert f"{tmp_path / 'secrets.env'}, line 2: expected NAME=value" in result.stderr


def test_it_refuses_an_unknown_log_level():
    result = start(LOG_LEVEL="chatty")
    assert result.returncode != 0
    assert "LOG_LEVEL='chatty' is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL" in result.stderr


@pytest.mark.parametrize(("value", "seen"), [(None, "False"), ("1", "True")])
def test_server_side_cursors_can_be_turned_off_for_pgbouncer(tmp_path, value, seen):
    code = "from django.conf import settings as s; print(s.DATABASES['default']['DISABLE_SERVER_SIDE_CURSORS'])"
    env = {**os.environ, "WARDFLUX_VAR_DIR": str(tmp_path), "DEBUG": "1"}
    env.pop("DATABASE_DISABLE_SERVER_SIDE_CURSORS", None)
    env.update({"DATABASE_DISABLE_SERVER_SIDE_CURSORS": value} if value else {})
    result = subprocess.run([sys.executable, "manage.py", "shell", "--no-imports", "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.stdout.split()[-1:] == [seen], result.stderr
