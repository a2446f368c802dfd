"""The alert lists' responses match the API schema (found by the API fuzz, tests/test_fuzz_api.py): `active` and
`history` are pages of alerts, and an alert may have no rule (Zabbix), no device and nobody who acknowledged it."""
import pytest
from django.utils import timezone

from alerts.choices import AlertSource, AlertStatus
from alerts.models import Alert
from tests.openapi import assert_conforms

pytestmark = pytest.mark.django_db


@pytest.fixture
def zabbix_alert() -> Alert:
    now = timezone.now()
    return Alert.objects.create(source=AlertSource.ZABBIX, name="Disk full", fingerprint="z", severity="high",
                                status=AlertStatus.FIRING, pending_since=now, triggered_at=now, last_seen_at=now)


@pytest.mark.parametrize("route", ["active", "history"])
def test_it_documents_the_alert_lists_as_pages_of_alerts(api, zabbix_alert, route):
    response = api.get(f"/api/v1/monitoring/alerts/{route}/")
    assert response.json()["results"][0]["rule"] is None
    assert response.json()["results"][0]["acknowledged_by"] is None
    assert_conforms(response, "get", f"/api/v1/monitoring/alerts/{route}/")
