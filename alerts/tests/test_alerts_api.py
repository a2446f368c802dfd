"""The alerts API: what fires now, history, acknowledge (by a real user, with a comment) and resolve."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert, AlertRule
from devices.models import Device

pytestmark = pytest.mark.django_db
ALERTS = "/api/v1/monitoring/alerts"


def make(rule: AlertRule, device: Device, status: str, severity: str, minutes_ago: int) -> Alert:
    at = timezone.now() - timedelta(minutes=minutes_ago)
    return Alert.objects.create(rule=rule, device=device, fingerprint=f"{device.pk}-{minutes_ago}", status=status,
                                severity=severity, labels={"device": device.name}, pending_since=at, last_seen_at=at,
                                triggered_at=at if status != "pending" else None,
                                resolved_at=at if status == "resolved" else None)


@pytest.fixture
def alerts(db) -> dict[str, Alert]:
    rule = AlertRule.objects.create(name="Ping loss", expression="ping_packet_loss > 20")
    device = Device.objects.create(name="core-1", address="127.0.0.1")
    return {"low": make(rule, device, "firing", "low", 1), "critical": make(rule, device, "firing", "critical", 5),
            "pending": make(rule, device, "pending", "high", 2), "old": make(rule, device, "resolved", "high", 60)}


def test_active_lists_firing_alerts_most_severe_first(api, alerts):
    body = api.get(f"{ALERTS}/active").json()
    assert body["count"] == 2 and [a["id"] for a in body["results"]] == [alerts["critical"].pk, alerts["low"].pk]
    first = body["results"][0]
    assert first["rule"] == "Ping loss" and first["device"] == "core-1" and first["subject"] == "core-1"


def test_active_comes_in_pages_that_keep_the_order(api, alerts):
    rule, device = alerts["low"].rule, alerts["low"].device
    more = [make(rule, device, "firing", severity, minutes) for severity, minutes in
            [("info", 3), ("high", 4), ("critical", 10), ("high", 7), ("medium", 9)]]
    expected = [alerts["critical"], more[2], more[1], more[3], more[4], alerts["low"], more[0]]
    pages = [api.get(f"{ALERTS}/active", {"limit": 3, "offset": offset}).json() for offset in (0, 3, 6)]
    assert [page["count"] for page in pages] == [7, 7, 7] and pages[0]["next"] and pages[2]["next"] is None
    assert [a["id"] for page in pages for a in page["results"]] == [alert.pk for alert in expected]


def test_history_has_every_alert_and_filters(api, alerts):
    assert api.get(f"{ALERTS}/history").json()["count"] == 4
    assert [a["id"] for a in api.get(f"{ALERTS}/history?status=resolved").json()["results"]] == [alerts["old"].pk]


def test_acknowledge_records_who_and_why_once(api, admin_user, alerts):
    alert = alerts["critical"]
    response = api.post(f"{ALERTS}/{alert.pk}/acknowledge", {"comment": "on it, ISP ticket 4711"}, format="json")
    assert response.status_code == 200
    assert (response.json()["acknowledged_by"], response.json()["acknowledgement"]) == ("admin", "on it, ISP ticket 4711")
    assert response.json()["device"] == "core-1"  # the answer shows the alert as the list does
    again = api.post(f"{ALERTS}/{alert.pk}/acknowledge", {"comment": "me too"}, format="json")
    assert again.status_code == 409 and "it was acknowledged by admin at" in again.json()["detail"]
    assert Alert.objects.get(pk=alert.pk).acknowledgement == "on it, ISP ticket 4711"


def test_resolve_closes_a_firing_alert_and_refuses_a_resolved_one(api, alerts):
    resolved = api.post(f"{ALERTS}/{alerts['low'].pk}/resolve").json()
    assert (resolved["status"], resolved["device"]) == ("resolved", "core-1")
    refused = api.post(f"{ALERTS}/{alerts['old'].pk}/resolve")
    assert refused.status_code == 409 and refused.json()["detail"].endswith("it is resolved")
    assert api.post(f"{ALERTS}/999999/resolve").status_code == 404


def test_acknowledging_needs_the_change_permission(django_user_model, alerts):
    from django.contrib.auth.models import Permission

    from tests.fixtures import api_client_for

    user = django_user_model.objects.create_user("noc")
    assert api_client_for(user).get(f"{ALERTS}/active").status_code == 403  # reading needs view_alert
    user.user_permissions.add(Permission.objects.get(codename="view_alert"))
    client = api_client_for(django_user_model.objects.get(pk=user.pk))
    assert client.get(f"{ALERTS}/active").status_code == 200
    assert client.post(f"{ALERTS}/{alerts['low'].pk}/acknowledge", {}, format="json").status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="change_alert"))
    client = api_client_for(django_user_model.objects.get(pk=user.pk))  # permissions are cached per instance
    assert client.post(f"{ALERTS}/{alerts['low'].pk}/acknowledge", {}, format="json").status_code == 200


def test_a_maintenance_window_is_created_by_api_and_a_bad_one_refused(api, db):
    Device.objects.create(name="core-1", address="127.0.0.1")
    good = {"name": "Upgrade", "starts_at": "2026-12-01T22:00:00Z", "ends_at": "2026-12-02T02:00:00Z",
            "devices": ["core-1"]}
    assert api.post(f"{ALERTS}/maintenance", good, format="json").status_code == 201
    bad = api.post(f"{ALERTS}/maintenance", {"name": "Nightly", "starts_at": "2026-12-01T00:00:00Z",
                                             "recurrence": "at night", "duration_minutes": 60}, format="json")
    assert bad.status_code == 400 and "is not a cron expression" in bad.json()["recurrence"][0]
    unknown = api.post(f"{ALERTS}/maintenance", {**good, "name": "Other", "devices": ["nope"]}, format="json")
    assert unknown.status_code == 400 and "devices" in unknown.json()
