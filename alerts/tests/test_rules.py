"""Alert rules and channels through the API and the admin: saved when valid, refused with the exact problem."""
from __future__ import annotations

import pytest

from alerts.models import AlertRule, NotificationChannel
from alerts.series import known_metrics
from devices.models import Device, DeviceGroup
from snmp.models import MonitoringItem
from templates_app.models import TemplateTrigger
from wardsite.expressions import metrics, parse

pytestmark = pytest.mark.django_db

RULES = "/api/v1/monitoring/alerts/rules"
CHANNELS = "/api/v1/monitoring/alerts/channels"


@pytest.fixture
def webhook() -> NotificationChannel:
    return NotificationChannel.objects.create(name="noc-hook", kind="webhook", settings={"url": "http://127.0.0.1:9/x"})


def test_a_rule_is_saved_with_its_scope_and_channels_by_name(api, webhook):
    Device.objects.create(name="core-1", address="127.0.0.1")
    DeviceGroup.objects.create(name="dc-1")
    response = api.post(RULES, {"name": "Packet loss", "expression": "ping_packet_loss > 20 for 2m",
                                "severity": "high", "devices": ["core-1"], "groups": ["dc-1"],
                                "templates": ["cisco-ios"], "channels": ["noc-hook"]}, format="json")
    assert response.status_code == 201, response.json()
    rule = AlertRule.objects.get(name="Packet loss")
    assert [d.name for d in rule.devices.all()] == ["core-1"] and list(rule.channels.all()) == [webhook]
    assert rule.templates.get().key == "cisco-ios"
    assert api.get(f"{RULES}/{rule.pk}").json()["channels"] == ["noc-hook"]


@pytest.mark.parametrize("body, field, message", [
    ({"expression": "avg(cpu_usage) >"}, "expression", "line 1, column 17: expected a number after '>'"),
    ({"expression": "avg(cpu_usage) > 90 and"}, "expression", "line 1, column 24: expected"),
    ({"expression": "avg(cpu_usag) > 90"}, "expression",
     "unknown metric 'cpu_usag': no poller, item or template item writes it"),
    ({"expression": "avg(cpu_usage) > 90 for 5m", "for_seconds": 60}, "for_seconds",
     "the expression already says 'for': give the duration in one place"),
    ({"expression": "avg(cpu_usage) > 90", "recovery_expression": "avg(cpu_usage) < 80 for 1m"},
     "recovery_expression", "a recovery expression has no 'for'"),
    ({"expression": "avg(cpu_usage) > 90", "channels": ["nobody"]}, "channels",
     "No notification channel has the name or id 'nobody'"),
    ({"expression": "avg(cpu_usage) > 90", "severity": "urgent"}, "severity", '"urgent" is not a valid choice'),
    ({"expression": "avg(cpu_usage) > 90", "escalate_after_minutes": 0}, "escalate_after_minutes",
     "greater than or equal to 1"),
])
def test_a_bad_rule_is_refused_naming_the_field_and_nothing_is_saved(api, body, field, message):
    response = api.post(RULES, {"name": "Bad", **body}, format="json")
    assert response.status_code == 400
    assert any(message in error for error in response.json()[field]), response.json()
    assert not AlertRule.objects.filter(name="Bad").exists()


def test_a_metric_becomes_known_when_an_item_writes_it(api):
    device = Device.objects.create(name="fw-1", address="127.0.0.1")
    rule = {"name": "Sessions", "expression": "rate(fw_sessions) > 1000"}
    assert api.post(RULES, rule, format="json").status_code == 400
    MonitoringItem.objects.create(device=device, name="fw_sessions", oid="1.3.6.1.4.1.99.1.0", value_type="counter")
    assert api.post(RULES, rule, format="json").status_code == 201
    assert "fw_sessions_total" in known_metrics()  # the raw counter of a counter item


def test_every_default_template_trigger_uses_known_metrics():
    known = known_metrics()
    for trigger in TemplateTrigger.objects.all():
        for text in filter(None, (trigger.expression, trigger.recovery_expression)):
            assert metrics(parse(text)) <= known, f"{trigger}: {text}"


def test_a_channel_secret_is_write_only(api):
    response = api.post(CHANNELS, {"name": "sms", "kind": "sms", "secret": "token-1", "settings": {
        "url": "http://127.0.0.1:9/sms", "account": "AC1", "from": "+4915100000000", "to": ["+4915112345678"]}},
        format="json")
    assert response.status_code == 201, response.json()
    assert "secret" not in response.json() and response.json()["has_secret"] is True
    channel = NotificationChannel.objects.get(name="sms")
    assert channel.secret == "token-1"
    assert api.patch(f"{CHANNELS}/{channel.pk}", {"enabled": False}, format="json").status_code == 200
    channel.refresh_from_db()
    assert channel.secret == "token-1" and not channel.enabled


@pytest.mark.parametrize("kind, settings, message", [
    ("webhook", {}, "url: an http:// or https:// URL is required"),
    ("slack", {"url": "ftp://example.invalid/hook"}, "url: an http:// or https:// URL is required"),
    ("email", {"to": []}, "to: a list with at least one recipient is required"),
    ("email", {"to": ["noc@example.com", "not-an-address"]}, "to[1]: 'not-an-address' is not an email address"),
    ("email", {"to": ["noc@example.com"], "port": 70000}, "port: give a TCP port, 1 to 65535"),
    ("email", {"to": ["noc@example.com"], "security": "ssl3"}, "security: one of none, starttls, tls"),
    ("sms", {"url": "http://127.0.0.1:9/", "account": "AC1", "from": "+4915100000000", "to": ["0151 1234"]},
     "to[0]: '0151 1234' is not a phone number in international format"),
    ("teams", {"url": "https://example.invalid/hook", "channel": "#noc"}, "channel: not a setting of a teams channel"),
    ("webhook", {"url": "https://example.invalid/hook", "headers": {"X-Retry": 3}}, "headers: an object of header"),
])
def test_a_bad_channel_is_refused_with_the_setting_named(api, kind, settings, message):
    response = api.post(CHANNELS, {"name": "bad", "kind": kind, "settings": settings}, format="json")
    assert response.status_code == 400
    assert any(message in error for error in response.json()["settings"]), response.json()
    assert not NotificationChannel.objects.filter(name="bad").exists()


def test_the_admin_shows_a_syntax_error_at_its_position_and_keeps_the_form(admin_client):
    response = admin_client.post("/admin/alerts/alertrule/add/", {
        "name": "High CPU", "expression": "avg(cpu_usage) > > 90", "severity": "high", "repeat_minutes": 0})
    assert response.status_code == 200  # the form again, not a redirect
    assert "line 1, column 18: expected a number after &#x27;&gt;&#x27;" in response.content.decode()
    assert not AlertRule.objects.filter(name="High CPU").exists()


def test_the_admin_never_shows_a_channel_secret(admin_client):
    channel = NotificationChannel.objects.create(name="mail", kind="email", secret="smtp-password",
                                                 settings={"to": ["noc@example.com"]})
    page = admin_client.get(f"/admin/alerts/notificationchannel/{channel.pk}/change/").content.decode()
    assert "smtp-password" not in page and "Leave blank to keep the stored value." in page
