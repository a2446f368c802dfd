"""Pages built for speed show what DRF and Django's admin would have shown: the API's page serializer
(wardsite/api.py PageSerializer) and pages read keys first (wardsite/paging.py), compared with the plain
machinery on the same fleet, on first pages, deep pages, filtered and reordered ones."""
from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework import serializers

import wardsite.api
from devices.models import Device
from icmp.models import PingStatus
from tests.fixtures import api_client_for
from tests.fleet_data import populate

pytestmark = pytest.mark.django_db

API_PAGES = [
    "/api/v1/devices/",
    "/api/v1/devices/?limit=3&offset=4&ordering=-name",
    "/api/v1/devices/?limit=2&offset=1&search=fleet-device",
    "/api/v1/monitoring/icmp/status?limit=3&offset=2",
    "/api/v1/monitoring/icmp/status?ordering=name",
    "/api/v1/monitoring/snmp/interfaces/?limit=5&offset=3",
    "/api/v1/monitoring/alerts/active?limit=2&offset=1",
    "/api/v1/monitoring/alerts/history",
]


def _page_serialized(monkeypatch: pytest.MonkeyPatch, fast: bool) -> None:
    """Every serializer listing with PageSerializer, and the paginator, as built (fast) or as DRF's own."""
    monkeypatch.undo()
    if fast:
        return
    monkeypatch.setattr(wardsite.api, "Pages", lambda queryset: queryset)
    pending = [serializers.ModelSerializer]
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        meta = getattr(cls, "Meta", None)
        if getattr(meta, "list_serializer_class", None) is wardsite.api.PageSerializer:
            monkeypatch.setattr(meta, "list_serializer_class", serializers.ListSerializer)


@pytest.fixture
def fleet(admin_user: User) -> User:
    populate(6)
    Device.objects.filter(name="fleet-device-2").update(parent=None, snmp_credential=None, group=None, last_seen=None)
    PingStatus.objects.filter(device__name="fleet-device-2").delete()  # never pinged: its status fields are null
    return admin_user


@pytest.mark.parametrize("path", API_PAGES)
def test_an_api_page_is_what_drf_would_show(fleet, monkeypatch, path):
    client = api_client_for(fleet)
    shown = {}
    for fast in (True, False):
        _page_serialized(monkeypatch, fast)
        response = client.get(path)
        assert response.status_code == 200, response.content
        shown[fast] = response.json()
    results = shown[True]["results"] if isinstance(shown[True], dict) else shown[True]
    assert results, f"{path}: an empty page compares nothing"
    assert shown[True] == shown[False]


def test_the_device_changelist_deep_page_lists_the_devices_of_that_page(fleet, monkeypatch):
    """Page 3 of 2 per page (devices ordered by name): the keys-first page shows those two devices, each once,
    in order; Django's own page shows the same."""
    names = list(Device.objects.order_by("name").values_list("name", flat=True))
    pages = {ours: re.findall(r'name="_selected_action" value="(\d+)"', html)
             for ours, html in _changelists(fleet, monkeypatch, "/admin/devices/device/?p=3").items()}
    by_pk = dict(Device.objects.values_list("pk", "name"))
    assert [by_pk[int(pk)] for pk in pages[True]] == names[4:6]
    assert pages[True] == pages[False]


def test_the_device_changelist_row_links_keep_the_lists_page_and_filters(fleet, monkeypatch):
    """Each row's link to its device carries the list's page, search and filters for the way back, as on Django's
    own change list."""
    path = "/admin/devices/device/?p=2&icmp_enabled__exact=1&q=fleet"
    links = {ours: re.findall(r'<th class="field-name"><a href="([^"]+)"', html)
             for ours, html in _changelists(fleet, monkeypatch, path).items()}
    assert len(links[True]) == 2
    assert all(link.endswith("/change/?_changelist_filters=p%3D2%26icmp_enabled__exact%3D1%26q%3Dfleet")
               for link in links[True])
    assert links[True] == links[False]


def _changelists(user: User, monkeypatch: pytest.MonkeyPatch, path: str) -> dict[bool, str]:
    """The device change list at `path`, 2 devices per page, as ours (True) and as Django's own ChangeList shows it."""
    from django.contrib.admin.views.main import ChangeList

    from devices.admin import DeviceAdmin

    monkeypatch.setattr(DeviceAdmin, "list_per_page", 2)
    client = Client()
    client.force_login(user)
    shown = {}
    for ours in (True, False):
        if not ours:
            monkeypatch.setattr(DeviceAdmin, "get_changelist", lambda self, request, **kwargs: ChangeList)
        response = client.get(path)
        assert response.status_code == 200
        shown[ours] = response.content.decode()
    return shown
