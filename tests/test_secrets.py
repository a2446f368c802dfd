"""SNMP secrets are encrypted at rest, never shown back, and survive key rotation."""
from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from snmp.client import Target
from snmp.models import SNMPCredential
from wardsite.secrets import SecretDecryptionError

pytestmark = pytest.mark.django_db


def stored(pk: int, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM snmp_snmpcredential WHERE id = %s", [pk])
        return cursor.fetchone()[0]


@pytest.fixture
def v3_credential() -> SNMPCredential:
    return SNMPCredential.objects.create(
        name="core-v3", version="v3", security_name="monitor", auth_protocol="SHA-256", auth_key="authpass-123",
        priv_protocol="AES", priv_key="privpass-123",
    )


def test_it_stores_secrets_encrypted(v3_credential):
    raw = stored(v3_credential.pk, "auth_key")
    assert "authpass-123" not in raw
    assert SNMPCredential.objects.get(pk=v3_credential.pk).auth_key == "authpass-123"


def test_it_never_returns_secrets_from_the_api(api, v3_credential):
    body = api.get(f"/api/v1/monitoring/snmp/credentials/{v3_credential.pk}/").json()
    assert "auth_key" not in body and "priv_key" not in body and "community" not in body
    assert body["has_auth_key"] is True
    assert "authpass-123" not in str(body)


def test_it_keeps_a_secret_when_an_api_update_omits_it(api, v3_credential):
    response = api.patch(f"/api/v1/monitoring/snmp/credentials/{v3_credential.pk}/", {"context_name": "vrf1"})
    assert response.status_code == 200, response.json()
    v3_credential.refresh_from_db()
    assert (v3_credential.context_name, v3_credential.priv_key) == ("vrf1", "privpass-123")


def test_it_rejects_v3_without_keys(api):
    response = api.post(
        "/api/v1/monitoring/snmp/credentials/",
        {"name": "bad", "version": "v3", "security_name": "u", "auth_protocol": "SHA", "priv_protocol": "AES"},
    )
    assert response.status_code == 400
    assert set(response.json()) >= {"auth_key", "priv_key"}
    assert not SNMPCredential.objects.filter(name="bad").exists()


def test_it_rejects_v2c_without_community(api):
    response = api.post("/api/v1/monitoring/snmp/credentials/", {"name": "bad", "version": "v2c"})
    assert response.status_code == 400
    assert "community" in response.json()


def test_it_never_renders_secrets_in_the_admin(admin_client, v3_credential):
    page = admin_client.get(f"/admin/snmp/snmpcredential/{v3_credential.pk}/change/").content.decode()
    assert "authpass-123" not in page and "privpass-123" not in page


def test_it_keeps_secrets_left_blank_in_the_admin(admin_client, v3_credential):
    response = admin_client.post(
        f"/admin/snmp/snmpcredential/{v3_credential.pk}/change/",
        {"name": "core-v3", "version": "v3", "security_name": "monitor2", "auth_protocol": "SHA-256",
         "priv_protocol": "AES", "community": "", "auth_key": "", "priv_key": "", "context_name": "",
         "timeout_ms": 2000, "retries": 1},
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    v3_credential.refresh_from_db()
    assert (v3_credential.security_name, v3_credential.auth_key) == ("monitor2", "authpass-123")


def test_it_fails_clearly_with_the_wrong_key(settings, v3_credential):
    settings.FERNET_KEYS = [Fernet.generate_key().decode()]
    credential = SNMPCredential.objects.get(pk=v3_credential.pk)  # loads: one bad row must not break a list
    assert not credential.auth_key and "authpass" not in str(credential.auth_key)
    with pytest.raises(SecretDecryptionError,
                       match="'core-v3 .*': auth_key, priv_key cannot be decrypted with any key in FERNET_KEYS"):
        Target.from_credential(credential, "127.0.0.1")


def test_it_rotates_every_secret_to_the_newest_key(settings, v3_credential):
    old_key = settings.FERNET_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.FERNET_KEYS = [new_key, old_key]
    call_command("rotate_secrets")
    settings.FERNET_KEYS = [new_key]  # the old key is gone: everything must still decrypt
    assert SNMPCredential.objects.get(pk=v3_credential.pk).priv_key == "privpass-123"


def test_it_rotates_nothing_when_a_secret_cannot_be_read(settings, v3_credential):
    before = stored(v3_credential.pk, "auth_key")
    settings.FERNET_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="nothing was changed"):
        call_command("rotate_secrets")
    assert stored(v3_credential.pk, "auth_key") == before


def test_it_refuses_to_delete_a_credential_in_use(api, v3_credential):
    from devices.models import Device

    Device.objects.create(name="r1", address="127.0.0.2", snmp_credential=v3_credential)
    response = api.delete(f"/api/v1/monitoring/snmp/credentials/{v3_credential.pk}/")
    assert response.status_code == 409
    assert "r1" in response.json()["detail"]
    assert SNMPCredential.objects.filter(pk=v3_credential.pk).exists()
