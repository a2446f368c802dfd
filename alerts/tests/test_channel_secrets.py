"""Settings that carry tokens (chat, webhook and SMS URLs; webhook headers) are stored encrypted and never read
back: the API and the admin show a URL's scheme and host and the header names; a write leaving them out keeps
them; a configuration export leaves them out unless asked for secrets (migration 0009 moved existing ones)."""
from __future__ import annotations

import io
from importlib import import_module

import pytest
import yaml
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from alerts import services
from alerts.models import NotificationChannel
from wardsite.secrets import fernet

pytestmark = pytest.mark.django_db
CHANNELS = "/api/v1/monitoring/alerts/channels/"
TOKEN, KEY = "T0/B0/xoxb-s3cret", "k3y-value"


@pytest.fixture
def hook(api, http_receiver) -> dict:
    """A webhook made through the API, with a token in its URL and an API key header; its answer."""
    response = api.post(CHANNELS, {"name": "hook", "kind": "webhook", "settings": {
        "url": f"{http_receiver.url}/{TOKEN}", "headers": {"X-Api-Key": KEY}, "body": '{"t": {{ title }}}'}},
        format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def stored_row(pk: int) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT settings::text, secret_settings FROM alerts_notificationchannel WHERE id = %s", [pk])
        return cursor.fetchone()


def test_the_api_never_gives_the_url_or_header_values_back(api, hook, http_receiver):
    for answer in (hook, api.get(f"{CHANNELS}{hook['id']}/").json(), api.get(CHANNELS).json()["results"][0]):
        assert TOKEN not in str(answer) and KEY not in str(answer)
        assert answer["settings"] == {"body": '{"t": {{ title }}}'}
        assert answer["stored_secrets"] == {"url": f"{http_receiver.url}/…", "headers": {"X-Api-Key": "…"}}


def test_they_are_stored_encrypted(hook):
    settings, secret = stored_row(hook["id"])
    assert TOKEN not in settings and TOKEN not in secret and KEY not in secret
    assert TOKEN in fernet().decrypt(secret.encode()).decode()


def test_a_write_that_leaves_them_out_keeps_them(api, hook, http_receiver):
    assert api.patch(f"{CHANNELS}{hook['id']}/", {"settings": {}}, format="json").status_code == 200
    put = api.put(f"{CHANNELS}{hook['id']}/", {"name": "hook-2", "kind": "webhook", "settings": {}}, format="json")
    assert put.status_code == 200 and put.json()["stored_secrets"]["headers"] == {"X-Api-Key": "…"}
    assert services.send_test(NotificationChannel.objects.get()).status == "sent"
    (request,) = http_receiver.requests
    assert request.path == f"/{TOKEN}" and request.headers["X-Api-Key"] == KEY


def test_a_new_url_replaces_the_stored_one_and_is_checked(api, hook, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    refused = api.patch(f"{CHANNELS}{hook['id']}/", {"settings": {"url": "http://127.0.0.1:6379/"}}, format="json")
    assert refused.status_code == 400 and refused.json()["settings"][0].startswith("url: 127.0.0.1 is a loopback")
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    moved = api.patch(f"{CHANNELS}{hook['id']}/", {"settings": {"url": "http://127.0.0.2:9/"}}, format="json")
    assert moved.json()["stored_secrets"]["url"] == "http://127.0.0.2:9/…"
    assert NotificationChannel.objects.get().full_settings["url"] == "http://127.0.0.2:9/"


def test_a_kind_that_takes_no_url_drops_the_stored_secrets(api, hook):
    changed = api.put(f"{CHANNELS}{hook['id']}/", {"name": "hook", "kind": "email", "settings": {
        "to": ["noc@example.com"]}}, format="json")
    assert changed.status_code == 200 and changed.json()["stored_secrets"] == {}
    assert NotificationChannel.objects.get().secret_settings == {}


def test_the_admin_shows_scheme_and_host_only_and_keeps_them_on_save(admin_client, hook, http_receiver):
    page = f"/admin/alerts/notificationchannel/{hook['id']}/change/"
    shown = admin_client.get(page).content.decode()
    assert TOKEN not in shown and KEY not in shown and f"{http_receiver.url}/…" in shown
    saved = admin_client.post(page, {"name": "hook", "kind": "webhook", "enabled": "on", "settings": "{}",
                                     "secret": ""})
    assert saved.status_code == 302
    assert NotificationChannel.objects.get().full_settings["headers"] == {"X-Api-Key": KEY}


def export(*args: str) -> str:
    out = io.StringIO()
    call_command("export_config", "--section", "notification_channels", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_a_configuration_export_leaves_them_out_unless_asked(hook):
    text = export()
    assert TOKEN not in text and KEY not in text
    (entry,) = yaml.safe_load(text)["notification_channels"]
    assert entry["secrets_left_out"] == ["secret_settings"] and "url" not in entry["settings"]
    (entry,) = yaml.safe_load(export("--with-secrets"))["notification_channels"]
    assert entry["secret_settings"]["headers"] == {"X-Api-Key": KEY} and entry["secret_settings"]["url"].endswith(TOKEN)


def test_the_migration_moves_stored_urls_and_headers_into_the_encrypted_field():
    migration = import_module("alerts.migrations.0009_channel_secret_settings")
    made = NotificationChannel.objects.create(name="hook", kind="webhook", settings={"body": ""})
    mail = NotificationChannel.objects.create(name="mail", kind="email", settings={"to": ["noc@example.com"]})
    old = {"url": f"https://hooks.example.com/{TOKEN}", "headers": {"X-Api-Key": KEY}, "body": ""}
    NotificationChannel.objects.filter(pk=made.pk).update(settings=old)  # as stored before: no save() to split
    migration.encrypt(apps, None)
    made.refresh_from_db()
    assert made.settings == {"body": ""} and made.secret_settings == {k: old[k] for k in ("url", "headers")}
    assert TOKEN not in stored_row(made.pk)[1]
    mail.refresh_from_db()
    assert mail.settings == {"to": ["noc@example.com"]} and mail.secret_settings == {}
    migration.decrypt(apps, None)
    made.refresh_from_db()
    assert made.settings == old and made.secret_settings == {}
