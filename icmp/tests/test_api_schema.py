"""The ICMP status matches the API schema (found by the API fuzz, tests/test_fuzz_api.py): a device not pinged yet
has no figures (null), not made-up ones."""
import pytest

from devices.models import Device
from tests.openapi import assert_conforms

pytestmark = pytest.mark.django_db


def test_a_device_never_pinged_has_null_figures(api):
    Device.objects.create(name="new", address="127.0.0.2")
    response = api.get("/api/v1/monitoring/icmp/status/")
    row = response.json()["results"][0]
    assert row["rtt_avg_ms"] is None and row["consecutive_failures"] is None and row["checked_at"] is None
    assert_conforms(response, "get", "/api/v1/monitoring/icmp/status/")
