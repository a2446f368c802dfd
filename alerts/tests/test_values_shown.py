"""Alert values as a person reads them, in the admin and in what notifications say; stored and sent as data raw."""
from __future__ import annotations

import pytest
from django.utils import timezone

from alerts import services
from alerts.models import Alert, AlertRule, NotificationChannel
from devices.models import Device

pytestmark = pytest.mark.django_db

RAW = 0.04363059997558594


@pytest.fixture
def alert(db) -> Alert:
    device = Device.objects.create(name="core-1", address="127.0.0.2")
    rule = AlertRule.objects.create(name="Slow replies", expression="ping_rtt_ms > 0.01", severity="high")
    now = timezone.now()
    return Alert.objects.create(rule=rule, device=device, fingerprint="f", severity="high", value=RAW,
                                first_value=12.345678, labels={"device_id": str(device.pk), "device": "core-1"},
                                status="firing", pending_since=now, triggered_at=now, last_seen_at=now)


@pytest.mark.parametrize("page", ["/admin/alerts/alert/", "/admin/alerts/alert/{pk}/change/"])
def test_the_admin_shows_alert_values_rounded(admin_client, alert, page):
    html = admin_client.get(page.format(pk=alert.pk)).content.decode()
    assert "0.04363" in html and "0.043630" not in html
    if "change" in page:
        assert "12.35" in html and "12.345" not in html


def test_a_notification_says_the_value_rounded_and_a_webhook_gets_it_raw(alert, http_receiver):
    for kind in ("slack", "webhook"):
        channel = NotificationChannel.objects.create(name=kind, kind=kind, settings={"url": http_receiver.url})
        assert services.send_notification(alert.pk, channel.pk, "firing").status == "sent"
    text, body = (request.json() for request in http_receiver.requests)
    assert "value: 0.04363\n" in text["text"] + "\n"
    assert body["value"] == RAW
    alert.refresh_from_db()
    assert alert.value == RAW
