"""The audit trail (wardsite/audit.py): changes through the admin, the API and commands, who/where/what, secrets
redacted, read-only at /api/v1/audit/ and in the admin, retention."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from celery import shared_task
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from rest_framework.test import APIClient

from alerts.models import NotificationChannel
from devices.models import Device
from devices.services import set_state
from snmp.models import Interface, SNMPCredential
from wardsite.api_tokens import create_token
from wardsite.audit import REDACTED, audited_models, secret_fields
from wardsite.secrets import secret_models
from wardsite.tasks import expire_audit_entries

pytestmark = pytest.mark.django_db
AUDIT = "/api/v1/audit/"


def entries_for(obj) -> list[LogEntry]:
    return list(LogEntry.objects.get_for_object(obj).order_by("timestamp", "id"))


def token_client(user: User, address: str = "127.0.0.1", **headers: str) -> APIClient:
    """A client authenticating with a real API token of `user` (not a session), from `address`."""
    _, key = create_token(user, None)
    client = APIClient(REMOTE_ADDR=address, **headers)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def auditor(username: str = "auditor") -> User:
    user = User.objects.create_user(username, password="auditor-pass-123")
    user.user_permissions.add(Permission.objects.get(content_type__app_label="auditlog", codename="view_logentry"))
    return user


@pytest.fixture
def credential() -> SNMPCredential:
    return SNMPCredential.objects.create(name="lab", version="v2c", community="old-community-1")


def test_it_records_an_admin_change_with_user_address_and_redacted_secret(admin_client, admin_user, credential):
    form = {"name": "lab", "version": "v2c", "community": "new-community-2", "security_name": "",
            "auth_protocol": "", "auth_key": "", "priv_protocol": "", "priv_key": "", "context_name": "",
            "timeout_ms": "5000", "retries": "1"}
    response = admin_client.post(f"/admin/snmp/snmpcredential/{credential.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]

    entry = entries_for(credential)[-1]
    assert entry.action == LogEntry.Action.UPDATE and entry.object_repr == "lab (SNMPv2c)"
    assert entry.actor == admin_user and entry.remote_addr == "127.0.0.1"
    assert entry.additional_data["via"] == "admin"
    assert entry.changes_dict["timeout_ms"] == [2000, 5000]
    assert entry.changes_dict["community"] == [REDACTED, REDACTED]
    assert "community-" not in json.dumps(entry.changes) + str(entry.additional_data)


def test_it_records_an_api_change_made_with_a_token_as_that_user(admin_user, credential):
    # a forged X-Forwarded-For is not taken (API_NUM_PROXIES=0): the address is the connection's
    client = token_client(admin_user, "127.0.0.7", HTTP_X_FORWARDED_FOR="203.0.113.9")
    response = client.patch(f"/api/v1/monitoring/snmp/credentials/{credential.pk}",
                            {"community": "api-community-3", "retries": 3}, format="json")
    assert response.status_code == 200, response.content

    entry = entries_for(credential)[-1]
    assert entry.actor == admin_user  # DRF authenticated the token after the middlewares ran
    assert entry.remote_addr == "127.0.0.7"
    assert entry.additional_data["via"] == "api"
    assert entry.additional_data["request"] == f"PATCH /api/v1/monitoring/snmp/credentials/{credential.pk}"
    assert entry.changes_dict == {"retries": [1, 3], "community": [REDACTED, REDACTED]}


def test_it_records_a_command_by_its_name_and_os_user(credential, tmp_path: Path):
    document = tmp_path / "config.yaml"
    document.write_text("format: wardflux-config/1\nsnmp_credentials:\n"
                        "- name: lab\n  version: v2c\n  community: cmd-community-4\n  timeout_ms: 3000\n")
    call_command("import_config", str(document))

    entry = entries_for(credential)[-1]
    assert entry.actor is None and entry.remote_addr is None
    assert entry.additional_data["via"] == "command" and entry.additional_data["command"] == "import_config"
    assert entry.additional_data["os_user"]
    assert entry.changes_dict == {"timeout_ms": [2000, 3000], "community": [REDACTED, REDACTED]}
    assert SNMPCredential.objects.get(pk=credential.pk).community == "cmd-community-4"


def test_a_new_users_password_hash_is_redacted(capsys):
    call_command("ensure_admin", username="root-admin")
    user = User.objects.get(username="root-admin")
    created = entries_for(user)[0]
    assert created.action == LogEntry.Action.CREATE
    assert created.changes_dict["password"] == ["None", REDACTED]
    assert created.additional_data["command"] == "ensure_admin"
    assert user.password not in json.dumps(created.changes)


def test_a_channels_secret_is_redacted_and_every_encrypted_field_is_masked():
    channel = NotificationChannel.objects.create(name="ops-hook", kind="webhook", secret="bearer-xyz-5",
                                                 settings={"url": "https://hooks.example.com/x"})
    channel.secret = "bearer-xyz-6"
    channel.save()
    created, updated = entries_for(channel)
    assert created.changes_dict["secret"] == ["None", REDACTED]
    assert updated.changes_dict == {"secret": [REDACTED, REDACTED]}
    audited = set(audited_models())
    for model, names in secret_models():  # any model with a SecretField: audited, and the field masked
        assert model in audited and set(names) <= set(secret_fields(model)), model


def test_what_the_monitor_observes_is_not_audited_but_a_persons_switch_is(credential):
    device = Device.objects.create(name="edge-1", address="127.0.0.1", snmp_credential=credential)
    before = LogEntry.objects.count()
    set_state(device.pk, "down", reason="test")
    interface = Interface.objects.create(device=device, if_index=1, name="Gi0/1")
    assert LogEntry.objects.count() == before  # a state change, an interface found by discovery: nothing

    interface.enabled = False
    interface.save()
    (entry,) = entries_for(interface)
    assert entry.changes_dict == {"enabled": [True, False]}


def test_the_api_is_read_only_and_filters(admin_user, credential):
    token_client(admin_user).patch(f"/api/v1/monitoring/snmp/credentials/{credential.pk}",
                                   {"retries": 2}, format="json")
    reader = token_client(auditor())
    found = reader.get(AUDIT, {"model": "snmp.snmpcredential", "object": credential.pk, "actor": "admin",
                               "action": "update", "since": (timezone.now() - timedelta(minutes=5)).isoformat()})
    assert found.status_code == 200, found.content
    (row,) = found.json()["results"]
    assert row["actor"] == "admin" and row["model"] == "snmp.snmpcredential" and row["object"] == str(credential.pk)
    assert row["changes"] == {"retries": [1, 2]} and row["remote_addr"] == "127.0.0.1"
    assert reader.get(f"{AUDIT}{row['id']}").json()["object_repr"] == "lab (SNMPv2c)"
    made = reader.get(AUDIT, {"model": "snmp.snmpcredential", "actor": "command import_config"}).json()
    assert made["results"] == []
    assert reader.get(AUDIT, {"until": (timezone.now() - timedelta(days=1)).isoformat()}).json()["results"] == []

    admin = token_client(admin_user)  # even a superuser cannot write
    assert admin.post(AUDIT, {}, format="json").status_code == 405
    assert admin.put(f"{AUDIT}{row['id']}", {}, format="json").status_code == 405
    assert admin.delete(f"{AUDIT}{row['id']}").status_code == 405
    assert LogEntry.objects.filter(pk=row["id"]).exists()


@pytest.mark.parametrize("params, field", [({"model": "nope.nothing"}, "model"), ({"since": "yesterday"}, "since"),
                                           ({"action": "access"}, "action")])
def test_bad_filters_are_refused_naming_the_field(params, field):
    response = token_client(auditor()).get(AUDIT, params)
    assert response.status_code == 400 and field in response.json(), response.content


def test_any_utc_offset_python_reads_is_a_filter_postgresql_takes(credential):
    """Python reads offsets up to ±23:59, PostgreSQL takes ±15:59: compared in UTC, -18:14 works (found by fuzzing)."""
    reader = token_client(auditor())
    assert reader.get(AUDIT, {"until": "0744-10-12T14:19:33.3-18:14"}).json()["results"] == []
    assert reader.get(AUDIT, {"since": "0744-10-12T14:19:33.3-18:14"}).json()["count"] >= 1
    assert reader.get(AUDIT, {"since": "0001-01-01T00:00:00+23:00"}).status_code == 400


def test_reading_the_trail_needs_the_view_permission(viewer):
    assert token_client(viewer).get(AUDIT).status_code == 403
    assert APIClient().get(AUDIT).status_code in (401, 403)


def test_the_admin_shows_who_and_refuses_changes(admin_client, credential):
    entry = entries_for(credential)[0]
    listing = admin_client.get("/admin/auditlog/logentry/").content.decode()
    assert "lab" in listing and "system" in listing  # made outside any request or command: "system"
    assert admin_client.get(f"/admin/auditlog/logentry/{entry.pk}/change/").status_code == 200
    assert admin_client.get("/admin/auditlog/logentry/add/").status_code == 403
    assert admin_client.post(f"/admin/auditlog/logentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert LogEntry.objects.filter(pk=entry.pk).exists()


def test_retention_deletes_old_entries_and_keeps_new_ones(settings, credential):
    old, new = entries_for(credential)[0], LogEntry.objects.log_create(credential, action=LogEntry.Action.UPDATE,
                                                                        changes={"retries": [1, 2]}, force_log=True)
    LogEntry.objects.filter(pk=old.pk).update(timestamp=timezone.now() - timedelta(days=31))
    settings.AUDIT_RETENTION_DAYS = 0  # keep forever
    assert expire_audit_entries() == 0 and LogEntry.objects.filter(pk=old.pk).exists()
    settings.AUDIT_RETENTION_DAYS = 30
    assert expire_audit_entries() >= 1
    assert not LogEntry.objects.filter(pk=old.pk).exists() and LogEntry.objects.filter(pk=new.pk).exists()


def test_retention_runs_daily_from_a_default_schedule():
    task = PeriodicTask.objects.get(task="wardsite.expire_audit_entries")
    assert task.enabled and task.interval.every == 86400 and task.interval.period == "seconds"



@shared_task(name="tests.audit.rename_credential")
def rename_credential(pk: int, name: str) -> None:
    credential = SNMPCredential.objects.get(pk=pk)
    credential.name = name
    credential.save()


def test_a_celery_task_is_named_as_the_actor(credential):
    rename_credential.apply(args=[credential.pk, "lab-2"])  # the worker's code path, run here
    entry = entries_for(credential)[-1]
    assert entry.changes_dict == {"name": ["lab", "lab-2"]}
    assert entry.additional_data["via"] == "task" and entry.additional_data["task"] == "tests.audit.rename_credential"
