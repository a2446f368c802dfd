from __future__ import annotations

import pytest

from devices.models import Device
from icmp.models import PingStatus

pytestmark = pytest.mark.django_db

RAW_RTT = 0.04363059997558594


@pytest.fixture
def status(db) -> PingStatus:
    device = Device.objects.create(name="r1", address="127.0.0.2")
    return PingStatus.objects.create(device=device, rtt_avg_ms=RAW_RTT, rtt_min_ms=0.031, rtt_max_ms=0.0581234,
                                     jitter_ms=0.0049, packet_loss=33.33333333333333)


@pytest.mark.parametrize("page", ["/admin/icmp/pingstatus/", "/admin/icmp/pingstatus/{pk}/change/"])
def test_it_shows_ping_results_rounded_and_keeps_them_raw(admin_client, status, page):
    html = admin_client.get(page.format(pk=status.pk)).content.decode()
    assert all(shown in html for shown in ("0.04", "0.03", "0.06", "33.3")), html
    assert "0.0436" not in html and "33.33" not in html and "0.0049" not in html
    status.refresh_from_db()
    assert status.rtt_avg_ms == RAW_RTT
