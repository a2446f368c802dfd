"""Notifications delivered to local receivers: an HTTP server stands in for Slack, Teams, Discord, webhooks and
the SMS provider (no real provider is reachable from the tests: the SMS API is faked by that receiver, which
checks what a Twilio-style API would get), aiosmtpd for the mail server."""
from __future__ import annotations

import base64
import shutil
from urllib.parse import parse_qs

import pytest
from django.utils import timezone

from alerts import services
from alerts.models import Alert, AlertRule, Delivery, NotificationChannel
from alerts.notifications import settings_problems
from alerts.tasks import RETRY_SECONDS, deliver
from devices.models import Device
from tests.receivers import SMTP_LOGIN, SMTPReceiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert(db) -> Alert:
    device = Device.objects.create(name="core-1", address="127.0.0.1")
    rule = AlertRule.objects.create(name="Interface down", expression="snmp_if_oper_status == 2", severity="high",
                                    runbook_url="https://wiki.example.invalid/if-down")
    now = timezone.now()
    return Alert.objects.create(rule=rule, device=device, fingerprint="f", severity="high", value=2.0,
                                labels={"device_id": str(device.pk), "device": "core-1", "ifName": "Gi0/1"},
                                status="firing", pending_since=now, triggered_at=now, last_seen_at=now)


def channel(kind: str, url: str = "", secret: str = "", **settings) -> NotificationChannel:
    made = NotificationChannel(name=kind, kind=kind, secret=secret, settings={"url": url, **settings} if url else settings)
    made.full_clean()
    made.save()
    made.rules.add(AlertRule.objects.get(name="Interface down"))
    return made


def email_to(receiver: SMTPReceiver, secret: str = "", **settings) -> NotificationChannel:
    """An email channel to noc@example.com through the receiver."""
    return channel("email", secret=secret, **{"to": ["noc@example.com"], "host": receiver.host, "port": receiver.port,
                                              **settings})


def test_a_webhook_gets_the_alert_as_json_with_its_bearer_token(alert, http_receiver):
    hook = channel("webhook", f"{http_receiver.url}/alerts", secret="s3cret", headers={"X-Team": "noc"})
    record = services.send_notification(alert.pk, hook.pk, "firing")
    assert record.status == "sent" and record.attempt == 1
    (request,) = http_receiver.requests
    body = request.json()
    assert (body["state"], body["rule"], body["severity"], body["subject"], body["value"]) == (
        "firing", "Interface down", "high", "core-1 Gi0/1", 2.0)
    assert body["device"] == {"id": alert.device_id, "name": "core-1", "address": "127.0.0.1"}
    assert request.headers["Authorization"] == "Bearer s3cret" and request.headers["X-Team"] == "noc"


def test_a_webhook_body_template_gives_the_json_the_receiver_wants(alert, http_receiver):
    hook = channel("webhook", http_receiver.url, body='{"summary": {{ title }}, "level": {{ severity }}, "v": {{ value }}}')
    services.send_notification(alert.pk, hook.pk, "firing")
    assert http_receiver.requests[0].json() == {
        "summary": "[FIRING] Interface down on core-1 Gi0/1 (high)", "level": "high", "v": 2.0}


def test_a_resolved_alert_says_so(alert, http_receiver):
    Alert.objects.filter(pk=alert.pk).update(status="resolved", resolved_at=timezone.now())
    hook = channel("slack", http_receiver.url)
    services.send_notification(alert.pk, hook.pk, "resolved")
    assert http_receiver.requests[0].json()["text"].startswith("[RESOLVED] Interface down on core-1 Gi0/1")


@pytest.mark.parametrize("kind, shape", [
    ("slack", lambda body: body["text"]),
    ("discord", lambda body: body["content"]),
    ("teams", lambda body: body["attachments"][0]["content"]["body"][0]["text"]),
])
def test_chat_channels_get_their_own_json_shape(alert, http_receiver, kind, shape):
    services.send_notification(alert.pk, channel(kind, http_receiver.url).pk, "firing")
    assert shape(http_receiver.requests[0].json()).startswith("[FIRING] Interface down on core-1 Gi0/1 (high)")


def test_sms_goes_to_each_number_through_a_twilio_style_api(alert, http_receiver):
    sms = channel("sms", f"{http_receiver.url}/Messages", secret="token", account="AC42", **{
        "from": "+4915100000000", "to": ["+4915112345678", "+4915187654321"]})
    assert services.send_notification(alert.pk, sms.pk, "firing").status == "sent"
    forms = [parse_qs(r.body.decode()) for r in http_receiver.requests]
    assert [f["To"] for f in forms] == [["+4915112345678"], ["+4915187654321"]]
    assert forms[0]["Body"][0].startswith("[FIRING] Interface down") and forms[0]["From"] == ["+4915100000000"]
    assert http_receiver.requests[0].headers["Authorization"] == "Basic " + base64.b64encode(b"AC42:token").decode()


def test_email_reaches_the_smtp_server(alert, smtp_receiver):
    mail = channel("email", to=["noc@example.com", "oncall@example.com"], host=smtp_receiver.host,
                   port=smtp_receiver.port, **{"from": "wardflux@example.com"})
    assert services.send_notification(alert.pk, mail.pk, "firing").status == "sent"
    (message,) = smtp_receiver.messages
    assert message["Subject"] == "[FIRING] Interface down on core-1 Gi0/1 (high)"
    assert message["To"] == "noc@example.com, oncall@example.com"
    assert "runbook: https://wiki.example.invalid/if-down" in message.get_payload()


def test_an_unreachable_smtp_server_is_a_transient_failure(alert):
    from tests.services import free_port

    mail = channel("email", to=["noc@example.com"], port=free_port())  # nothing listens there
    record = services.send_notification(alert.pk, mail.pk, "firing", last_attempt=False)
    assert record.status == "retrying" and "ConnectionRefusedError" in record.error


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_email_goes_over_tls_to_a_server_of_a_private_ca(alert, request, security):
    receiver = request.getfixturevalue(f"smtp_{security}_receiver")
    mail = email_to(receiver, security=security, ca_file=receiver.ca_file)
    assert services.send_notification(alert.pk, mail.pk, "firing").status == "sent"
    (message,) = receiver.messages
    assert message["Subject"] == "[FIRING] Interface down on core-1 Gi0/1 (high)"
    assert receiver.tls_versions[0] in ("TLSv1.2", "TLSv1.3")


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_a_server_certificate_the_system_does_not_trust_is_a_permanent_failure(alert, request, security):
    receiver = request.getfixturevalue(f"smtp_{security}_receiver")
    record = services.send_notification(alert.pk, email_to(receiver, security=security).pk, "firing",
                                        last_attempt=False)
    assert record.status == "failed"
    assert "certificate is not trusted" in record.error and "ca_file" in record.error
    assert receiver.messages == []


def test_the_server_certificate_must_name_the_host(alert, smtp_starttls_receiver):
    # 127.1 reaches 127.0.0.1, but the certificate names 127.0.0.1 and localhost only
    mail = email_to(smtp_starttls_receiver, security="starttls", ca_file=smtp_starttls_receiver.ca_file, host="127.1")
    record = services.send_notification(alert.pk, mail.pk, "firing", last_attempt=False)
    assert record.status == "failed" and "Hostname mismatch" in record.error
    assert smtp_starttls_receiver.messages == []


def test_a_ca_file_gone_since_it_was_saved_is_a_permanent_failure(alert, smtp_tls_receiver, tmp_path):
    ca_file = tmp_path / "ca.pem"
    shutil.copy(smtp_tls_receiver.ca_file, ca_file)
    mail = email_to(smtp_tls_receiver, security="tls", ca_file=str(ca_file))
    ca_file.unlink()
    record = services.send_notification(alert.pk, mail.pk, "firing", last_attempt=False)
    assert record.status == "failed" and record.error.startswith(f"ca_file {ca_file}: FileNotFoundError")


def test_email_logs_in_over_starttls(alert, smtp_starttls_receiver):
    user, password = SMTP_LOGIN
    mail = email_to(smtp_starttls_receiver, secret=password, username=user, security="starttls",
                    ca_file=smtp_starttls_receiver.ca_file)
    assert services.send_notification(alert.pk, mail.pk, "firing").status == "sent"
    assert smtp_starttls_receiver.logins == [user] and smtp_starttls_receiver.tls_versions[0] is not None


def test_a_wrong_smtp_password_is_a_permanent_failure(alert, smtp_starttls_receiver):
    mail = email_to(smtp_starttls_receiver, secret="wrong", username=SMTP_LOGIN[0], security="starttls",
                    ca_file=smtp_starttls_receiver.ca_file)
    record = services.send_notification(alert.pk, mail.pk, "firing", last_attempt=False)
    assert record.status == "failed" and "login" in record.error and "credentials invalid" in record.error
    assert smtp_starttls_receiver.messages == []


def test_plain_smtp_to_a_server_requiring_starttls_is_refused(alert, smtp_starttls_receiver):
    record = services.send_notification(alert.pk, email_to(smtp_starttls_receiver).pk, "firing", last_attempt=False)
    assert record.status == "failed" and "530" in record.error and "Must issue a STARTTLS command first" in record.error
    assert smtp_starttls_receiver.messages == []


def test_starttls_to_a_server_without_it_is_a_permanent_failure(alert, smtp_receiver):
    record = services.send_notification(alert.pk, email_to(smtp_receiver, security="starttls").pk, "firing",
                                        last_attempt=False)
    assert record.status == "failed" and "STARTTLS extension not supported" in record.error
    assert smtp_receiver.messages == []


@pytest.mark.parametrize("settings, problem", [
    ({"security": "starttls", "ca_file": "ca.pem"}, "ca_file: 'ca.pem' is not an absolute path"),
    ({"security": "tls", "ca_file": "/nonexistent/ca.pem"}, "ca_file: /nonexistent/ca.pem is not a readable file"),
    ({"security": "tls", "ca_file": __file__}, f"ca_file: {__file__} holds no PEM CA certificate"),
    ({"ca_file": "/etc/ssl/certs/ca-certificates.crt"}, "ca_file: only used with TLS"),
])
def test_a_ca_file_that_cannot_serve_is_refused(settings, problem):
    (found,) = settings_problems("email", {"to": ["noc@example.com"], **settings})
    assert found.startswith(problem)


def test_a_receiver_answering_500_is_retried_until_it_takes_it(alert, http_receiver, monkeypatch):
    monkeypatch.setattr("alerts.tasks.RETRY_SECONDS", (0,) * len(RETRY_SECONDS))
    http_receiver.answers = [500, 503]
    hook = channel("webhook", http_receiver.url)
    deliver.apply(args=(alert.pk, hook.pk, "firing"))
    attempts = list(Delivery.objects.order_by("attempt").values_list("attempt", "status"))
    assert attempts == [(1, "retrying"), (2, "retrying"), (3, "sent")]
    assert len(http_receiver.requests) == 3
    assert "HTTP 500" in Delivery.objects.get(attempt=1).error


def test_a_receiver_answering_404_is_a_permanent_failure_not_retried(alert, http_receiver):
    http_receiver.answers = [404]
    hook = channel("webhook", http_receiver.url)
    deliver.apply(args=(alert.pk, hook.pk, "firing"))
    (record,) = Delivery.objects.all()
    assert (record.status, record.attempt) == ("failed", 1) and "HTTP 404" in record.error
    assert len(http_receiver.requests) == 1
    assert Alert.objects.get(pk=alert.pk).status == "firing"  # the alert itself is not lost


def test_the_last_attempt_that_fails_is_recorded_as_failed(alert, http_receiver, monkeypatch):
    monkeypatch.setattr("alerts.tasks.RETRY_SECONDS", (0,) * len(RETRY_SECONDS))
    http_receiver.answers = [500] * (len(RETRY_SECONDS) + 1)
    deliver.apply(args=(alert.pk, channel("webhook", http_receiver.url).pk, "firing"))
    statuses = list(Delivery.objects.order_by("attempt").values_list("status", flat=True))
    assert statuses == ["retrying"] * len(RETRY_SECONDS) + ["failed"]


def test_each_event_goes_to_the_enabled_channels_of_its_rule(alert, http_receiver):
    from alerts.engine import Event

    on = channel("webhook", http_receiver.url)
    off = channel("slack", http_receiver.url)
    NotificationChannel.objects.filter(pk=off.pk).update(enabled=False)
    assert services.deliveries_for([Event("firing", alert.pk)]) == [(alert.pk, on.pk, "firing")]


def test_an_event_that_no_channel_takes_is_logged_as_told_to_nobody(alert, http_receiver, caplog):
    from alerts.engine import Event

    with caplog.at_level("INFO", logger="alerts.services"):
        assert services.deliveries_for([Event("firing", alert.pk)]) == []
    assert "nobody is told: rule 'Interface down' has no enabled channel" in caplog.text
    caplog.clear()
    channel("webhook", http_receiver.url)
    with caplog.at_level("INFO", logger="alerts.services"):
        services.deliveries_for([Event("firing", alert.pk)])
    assert "nobody" not in caplog.text and "(1 channels)" in caplog.text


def test_the_admin_sends_a_test_notification(admin_client, http_receiver, db):
    hook = NotificationChannel.objects.create(name="hook", kind="webhook", settings={"url": http_receiver.url})
    response = admin_client.post("/admin/alerts/notificationchannel/", {
        "action": "send_test", "_selected_action": [hook.pk]}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["hook: Sent"]
    assert http_receiver.requests[0].json()["title"] == "[TEST] Test notification on channel hook (info)"
    assert Delivery.objects.get().event == "test"


def test_a_body_template_that_does_not_give_json_is_refused(api):
    response = api.post("/api/v1/monitoring/alerts/channels/", {"name": "hook", "kind": "webhook", "settings": {
        "url": "http://127.0.0.1:9/", "body": '{"text": {{ title }}'}}, format="json")
    assert response.status_code == 400
    assert response.json()["settings"][0].startswith("body: the body template does not give JSON")


@pytest.mark.parametrize("event, prefix", [("repeat", "[STILL FIRING]"), ("escalation", "[ESCALATED]")])
def test_repeats_and_escalations_say_what_they_are(alert, http_receiver, event, prefix):
    services.send_notification(alert.pk, channel("discord", http_receiver.url).pk, event)
    assert http_receiver.requests[0].json()["content"].startswith(f"{prefix} Interface down on core-1 Gi0/1")
    assert Delivery.objects.get().event == event


def test_a_registered_channel_is_offered_checked_and_delivered(alert, monkeypatch):
    """Adding a channel is adding a module that registers it: the kind's choices, the settings check and delivery
    all look it up."""
    from alerts.notifications import CHANNELS, Channel, channel_kinds

    sent = []
    pager = Channel("pager", "Pager", frozenset({"url", "team"}), lambda channel, message: sent.append(message.title),
                    lambda settings: [] if settings.get("team") else ["team: required"])
    monkeypatch.setitem(CHANNELS, "pager", pager)
    assert ("pager", "Pager") in channel_kinds()
    assert settings_problems("pager", {"url": "https://pager.example.invalid/", "room": "noc"}) == [
        "room: not a setting of a pager channel (it takes team, url)", "team: required"]
    made = channel("pager", "https://pager.example.invalid/", team="noc")
    assert services.send_notification(alert.pk, made.pk, "firing").status == "sent"
    assert sent == ["[FIRING] Interface down on core-1 Gi0/1 (high)"]
