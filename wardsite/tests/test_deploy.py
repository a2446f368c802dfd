"""Production settings: `check --deploy` has nothing to say, HTTPS only, the development keys refused, and the
API schema and docs only for users logged in."""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client

from snmp.models import SNMPCredential

ROOT = Path(__file__).resolve().parent.parent.parent


def manage(*args: str, **env: str | None) -> subprocess.CompletedProcess:
    """`manage.py args` with production settings: real keys, DEBUG and HTTPS_ONLY unset, plus `env`."""
    environ = {**os.environ, "SECRET_KEY": secrets.token_urlsafe(50), "FERNET_KEYS": Fernet.generate_key().decode(),
               "ALLOWED_HOSTS": "monitor.example.net"}
    for name in ("DEBUG", "HTTPS_ONLY"):
        environ.pop(name, None)
    for name, value in env.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environ, capture_output=True,
                          text=True, timeout=120)


def test_production_settings_pass_check_deploy_without_a_warning():
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout and "WARNING" not in result.stderr


def test_a_plain_http_lab_is_one_switch_and_check_deploy_says_what_it_costs():
    result = manage("check", "--deploy", "--fail-level", "WARNING", HTTPS_ONLY="0")
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr, result.stderr


def test_hsts_preload_is_asked_for_only_when_switched_on():
    result = manage("check", "--deploy", "--fail-level", "WARNING", SECURE_HSTS_PRELOAD="1")
    assert result.returncode == 0, result.stderr
    result = manage("shell", "--no-imports", "-c", "from django.conf import settings as s; "
                    "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD)",
                    SECURE_HSTS_PRELOAD="1")
    assert result.stdout.split() == ["31536000", "True", "True"], result.stderr


@pytest.mark.parametrize(("value", "seen"), [
    ("HTTP_X_FORWARDED_PROTO", "('HTTP_X_FORWARDED_PROTO', 'https')"),
    ("X-Forwarded-Proto", "('HTTP_X_FORWARDED_PROTO', 'https')"),
    ("", "None"),
])
def test_the_proxy_ssl_header_is_read_from_the_environment(value, seen):
    result = manage("shell", "--no-imports", "-c", "from django.conf import settings as s; "
                    "print(s.SECURE_PROXY_SSL_HEADER)", SECURE_PROXY_SSL_HEADER=value)
    assert result.stdout.strip() == seen, result.stderr


@pytest.mark.parametrize(("env", "message"), [
    ({"SECURE_PROXY_SSL_HEADER": "X Forwarded"}, "SECURE_PROXY_SSL_HEADER='X Forwarded' is not a header name"),
    ({"SECURE_HSTS_SECONDS": "-1"}, "SECURE_HSTS_SECONDS=-1 is below the minimum 0"),
    ({"HTTPS_ONLY": "maybe"}, "HTTPS_ONLY='maybe' is not a boolean"),
    ({"API_TOKEN_TTL": "1 year"}, "API_TOKEN_TTL='1 year': '1 year' is not a duration"),
    ({"SECRET_KEY": django_settings.DEV_SECRET_KEY}, "SECRET_KEY is the development key"),
    ({"FERNET_KEYS": django_settings.DEV_FERNET_KEY}, "FERNET_KEYS: the first key (the one that encrypts) is the "
                                                      "development key"),
])
def test_it_refuses_to_start_with_bad_security_settings(env, message):
    result = manage("check", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_the_development_key_after_a_real_one_is_a_warning_to_remove_it():
    result = manage("check", "--deploy", "--fail-level", "WARNING",
                    FERNET_KEYS=f"{Fernet.generate_key().decode()},{django_settings.DEV_FERNET_KEY}")
    assert result.returncode != 0 and "wardsite.W001" in result.stderr
    assert "remove it" in result.stderr


# --- in the running app -------------------------------------------------------------------------------------------

@pytest.fixture
def https_only(settings) -> None:
    settings.SECURE_SSL_REDIRECT = settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


@pytest.mark.django_db
def test_plain_http_is_redirected_and_https_told_to_stay(https_only):
    client = Client()  # after the settings: the security middleware reads them when it starts
    plain = client.get("/admin/login/")
    assert plain.status_code == 301 and plain["Location"] == "https://testserver/admin/login/"
    proxied = client.get("/admin/login/", HTTP_X_FORWARDED_PROTO="https")
    assert proxied.status_code == 200
    assert proxied["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Secure" in proxied.cookies["csrftoken"].output()


@pytest.mark.django_db
def test_the_schema_and_the_docs_need_a_login(admin_user):
    anonymous = Client()
    assert anonymous.get("/api/v1/schema/").status_code in (401, 403)
    docs = anonymous.get("/api/v1/docs/")
    assert docs.status_code == 302 and docs["Location"] == "/admin/login/?next=/api/v1/docs/"
    assert anonymous.get("/api/v1/docs").status_code == 302
    logged_in = Client()
    logged_in.force_login(admin_user)
    assert logged_in.get("/api/v1/schema/").status_code == 200
    assert logged_in.get("/api/v1/docs/").status_code == 200


# --- secrets encrypted with the development key -------------------------------------------------------------------

@pytest.mark.django_db
def test_secrets_encrypted_with_the_development_key_stop_migrate_until_rotated(settings):
    settings.FERNET_KEYS = [settings.DEV_FERNET_KEY]  # as a DEBUG=1 instance stored it
    SNMPCredential.objects.create(name="lab", version="v2c", community="public-from-a-lab")
    SNMPCredential.objects.create(name="none", version="v2c", community="")  # nothing stored: nothing to refuse
    settings.FERNET_KEYS = [Fernet.generate_key().decode(), settings.DEV_FERNET_KEY]  # production, mid-rotation
    with pytest.raises(SystemCheckError) as refused:
        call_command("check", "--database", "default")
    message = str(refused.value)
    assert "wardsite.E001" in message and "1 stored secrets are encrypted with the development key" in message
    assert "snmp.SNMPCredential.community: 1" in message and "rotate_secrets" in message
    call_command("rotate_secrets")
    call_command("check", "--database", "default")  # nothing left under the development key
    assert SNMPCredential.objects.get(name="lab").community == "public-from-a-lab"


@pytest.mark.django_db
def test_development_secrets_are_not_looked_for_with_debug(settings):
    settings.FERNET_KEYS = [settings.DEV_FERNET_KEY]
    SNMPCredential.objects.create(name="lab", version="v2c", community="public")
    settings.DEBUG = True
    call_command("check", "--database", "default")
