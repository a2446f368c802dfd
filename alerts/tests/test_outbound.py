"""Channels cannot turn the server against its own network (server-side request forgery, wardsite/outbound.py).

Targets on this host and its networks are refused when a channel is saved (HTTP 400 / admin form error naming
`settings`) and again before it sends, the connection checks the address it reached, redirects are not followed
and errors never quote the receiver's answer. The receivers are real (HTTP and SMTP on loopback), so these tests
narrow OUTBOUND_ALLOWED_NETWORKS (the suite allows loopback, tests/bootstrap.py). A name answering what /etc/hosts
does not say is made by replacing `wardsite.outbound.resolve`, the guard's one resolver (/etc/hosts is shared by
the machine); the connection itself resolves through the system, which is how the rebinding test gets a guard
told "public" and a socket that reaches 127.0.0.1.
"""
from __future__ import annotations

import pytest
from django.utils import timezone

from alerts import services
from alerts.models import Alert, AlertRule, NotificationChannel
from devices.models import Device
from wardsite import outbound

pytestmark = pytest.mark.django_db
CHANNELS = "/api/v1/monitoring/alerts/channels/"
PUBLIC = "93.184.215.14"  # what the replaced resolver says a name is, while it is "public"
ATTACKS = [
    ("http://127.0.0.1:8428/api/v1/admin/tsdb/delete_series?match[]=x", "127.0.0.1 is a loopback address"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
    ("http://[::1]:8428/", "::1 is a loopback address"),
    ("http://localhost:6379/", "localhost resolves to"),  # through the system's resolver: /etc/hosts
    ("https://hooks.example.test/T0/B0/token", "hooks.example.test resolves to 127.0.0.1, a loopback address"),
]


@pytest.fixture
def nothing_allowed(settings, monkeypatch) -> None:
    """No private address allowed; hooks.example.test resolves to 127.0.0.1, other names as the system says."""
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    system = outbound.resolve
    monkeypatch.setattr(outbound, "resolve",
                        lambda host, port: ["127.0.0.1"] if host == "hooks.example.test" else system(host, port))


@pytest.fixture
def alert(db) -> Alert:
    rule = AlertRule.objects.create(name="Interface down", expression="snmp_if_oper_status == 2", severity="high")
    now = timezone.now()
    return Alert.objects.create(rule=rule, device=Device.objects.create(name="core-1", address="192.0.2.1"),
                                fingerprint="f", severity="high", value=2.0, labels={"device": "core-1"},
                                status="firing", pending_since=now, triggered_at=now, last_seen_at=now)


def resolving(monkeypatch, address: str) -> None:
    """Every name now resolves to `address` (for the guard)."""
    monkeypatch.setattr(outbound, "resolve", lambda host, port: [address])


@pytest.mark.parametrize("url, reason", ATTACKS)
def test_the_api_refuses_a_target_on_this_host_or_its_networks(api, nothing_allowed, url, reason):
    response = api.post(CHANNELS, {"name": "hook", "kind": "webhook", "settings": {"url": url}}, format="json")
    assert response.status_code == 400
    (problem,) = response.json()["settings"]
    assert problem.startswith(f"url: {reason}") and problem.endswith("allow it with OUTBOUND_ALLOWED_NETWORKS")
    assert not NotificationChannel.objects.exists()


@pytest.mark.parametrize("url, reason", ATTACKS)
def test_the_admin_refuses_a_target_on_this_host_or_its_networks(admin_client, nothing_allowed, url, reason):
    response = admin_client.post("/admin/alerts/notificationchannel/add/", {
        "name": "hook", "kind": "slack", "enabled": "on", "settings": f'{{"url": "{url}"}}', "secret": ""})
    assert response.status_code == 200  # the form again, with its errors
    (problem,) = response.context["adminform"].form.errors["settings"]
    assert problem.startswith(f"url: {reason}")
    assert not NotificationChannel.objects.exists()


def test_an_allowed_network_is_taken(api, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    response = api.post(CHANNELS, {"name": "vm", "kind": "webhook", "settings": {
        "url": "http://127.0.0.1:8428/hook"}}, format="json")
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("private", ["10.1.2.3", "127.0.0.1"])
def test_a_name_that_turned_private_since_it_was_saved_is_refused_at_send(alert, http_receiver, settings,
                                                                          monkeypatch, private):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    port = http_receiver.url.rsplit(":", 1)[1]
    resolving(monkeypatch, PUBLIC)
    hook = NotificationChannel(name="hook", kind="webhook", settings={"url": f"http://hooks.example.test:{port}/x"})
    hook.full_clean()
    hook.save()
    resolving(monkeypatch, private)
    record = services.send_notification(alert.pk, hook.pk, "firing", last_attempt=False)
    assert record.status == "failed"  # permanent: not retried
    assert record.error.startswith(f"http://hooks.example.test:{port}/… refused: hooks.example.test resolves to "
                                   f"{private}, a ")
    assert http_receiver.requests == []


def test_a_connection_that_reaches_a_refused_address_is_dropped(alert, http_receiver, settings, monkeypatch):
    """DNS rebinding: the guard was told a public address, the connection reached 127.0.0.1."""
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    resolving(monkeypatch, PUBLIC)  # for the guard only: the socket resolves localhost through /etc/hosts
    port = http_receiver.url.rsplit(":", 1)[1]
    hook = NotificationChannel.objects.create(name="hook", kind="webhook",
                                              settings={"url": f"http://localhost:{port}/x"})
    record = services.send_notification(alert.pk, hook.pk, "firing", last_attempt=False)
    assert record.status == "failed" and "refused: connected to 127.0.0.1, a loopback address" in record.error
    assert http_receiver.requests == []


def test_a_redirect_is_not_followed(alert, http_receiver):
    from tests.receivers import running_http_receiver

    with running_http_receiver() as target:
        http_receiver.answers, http_receiver.location = [302], f"{target.url}/latest/meta-data/"
        hook = NotificationChannel.objects.create(name="hook", kind="slack", settings={"url": http_receiver.url})
        record = services.send_notification(alert.pk, hook.pk, "firing", last_attempt=False)
    assert record.status == "failed" and "answered HTTP 302: redirect not followed" in record.error
    assert len(http_receiver.requests) == 1 and target.requests == []


@pytest.mark.parametrize("status, outcome", [(404, "failed"), (500, "retrying")])
def test_an_error_answer_is_recorded_without_its_body_or_the_url_path(alert, http_receiver, status, outcome):
    http_receiver.answers = [status]  # the receiver says "receiver says no" in its body
    hook = NotificationChannel.objects.create(name="hook", kind="discord",
                                              settings={"url": f"{http_receiver.url}/api/webhooks/42/t0ken"})
    record = services.send_notification(alert.pk, hook.pk, "firing", last_attempt=False)
    assert (record.status, record.error) == (outcome, f"{http_receiver.url}/… answered HTTP {status}")


def test_a_connection_error_does_not_quote_the_url_path(alert):
    from tests.services import free_port

    port = free_port()  # nothing listens there
    hook = NotificationChannel.objects.create(name="hook", kind="teams",
                                              settings={"url": f"http://127.0.0.1:{port}/workflows/t0ken"})
    record = services.send_notification(alert.pk, hook.pk, "firing", last_attempt=False)
    assert (record.status, record.error) == (
        "retrying", f"http://127.0.0.1:{port}/…: ConnectionError: Connection refused")


def email(**settings) -> dict:
    return {"name": "mail", "kind": "email", "settings": {"to": ["noc@example.com"], **settings}}


def test_smtp_on_this_host_is_refused_unless_allowed(api, settings, smtp_receiver, alert):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    refused = api.post(CHANNELS, email(host="127.0.0.1", port=smtp_receiver.port), format="json")
    assert refused.json()["settings"] == [
        "host: 127.0.0.1 is a loopback address; allow it with OUTBOUND_ALLOWED_NETWORKS"]
    default = api.post(CHANNELS, email(), format="json")
    assert default.json()["settings"][0].endswith("(127.0.0.1 is the default host: a mail server on this machine)")
    settings.OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]  # a local MTA
    made = api.post(CHANNELS, email(host="127.0.0.1", port=smtp_receiver.port), format="json")
    assert made.status_code == 201
    assert services.send_notification(alert.pk, made.json()["id"], "firing").status == "sent"
    assert len(smtp_receiver.messages) == 1


def test_smtp_is_checked_again_at_send(alert, settings, smtp_receiver, monkeypatch):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    resolving(monkeypatch, PUBLIC)
    mail = NotificationChannel(**email(host="mail.example.test", port=smtp_receiver.port))
    mail.full_clean()
    mail.save()
    resolving(monkeypatch, "127.0.0.1")
    record = services.send_notification(alert.pk, mail.pk, "firing", last_attempt=False)
    assert record.status == "failed" and record.error == (
        f"SMTP mail.example.test:{smtp_receiver.port} refused: mail.example.test resolves to 127.0.0.1, a loopback "
        "address; allow it with OUTBOUND_ALLOWED_NETWORKS")
    assert smtp_receiver.messages == []


def test_an_smtp_connection_that_reaches_a_refused_address_is_dropped(alert, settings, smtp_receiver, monkeypatch):
    settings.OUTBOUND_ALLOWED_NETWORKS = []
    resolving(monkeypatch, PUBLIC)  # the guard's view; smtplib connects to localhost through /etc/hosts
    mail = NotificationChannel.objects.create(**email(host="localhost", port=smtp_receiver.port))
    record = services.send_notification(alert.pk, mail.pk, "firing", last_attempt=False)
    assert record.status == "failed" and "refused: connected to 127.0.0.1, a loopback address" in record.error
    assert smtp_receiver.messages == []
