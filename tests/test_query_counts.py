"""No list grows its SQL with its rows: every API route answering GET and every admin changelist makes as many
queries for a page of 3k rows as for k (an N+1 — a related object read per row — fails here, naming the page).

Each page is asked once first (caches of content types and permissions fill on a first request), then counted
with the rows of tests/fleet_data.py at two sizes, well inside one page.
"""
from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse

from devices.models import Device
from snmp.models import Interface
from tests.fleet_data import populate
from wardsite.api_root import api_routes

pytestmark = pytest.mark.django_db
SMALL, MORE = 2, 4  # rows of each kind, then this many more


# Views answering GET that are not viewsets: the lists among them, and the rest (one answer, or arguments needed).
VIEW_LISTS = {"monitoring/icmp/status", "auth/tokens"}
NOT_LISTS = {"monitoring/snmp/test", "monitoring/snmp/poll", "monitoring/discovery/scan", "monitoring/discovery/add-devices",
             "zabbix/import", "auth/login", "auth/logout", "auth/logoutall", "schema", "docs"}


def _get_action(route: str) -> str | None:
    """What GET does on the route: a viewset's action ("list", "active"...), "view" for a plain view, or None."""
    match = resolve(f"/api/v1/{route}")
    actions = getattr(match.func, "actions", None)
    if actions is not None:
        return actions.get("get")
    return "view" if hasattr(getattr(match.func, "cls", None), "get") else None


ROUTES = [route for route in dict.fromkeys(api_routes()) if route and "{" not in route]
API_LISTS = [r for r in ROUTES if _get_action(r) not in (None, "view")] + sorted(VIEW_LISTS)
CHANGELISTS = sorted(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
                     for model in admin.site._registry)


def _queries(get, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


def _counts(get, url: str) -> tuple[int, int]:
    populate(SMALL)
    get(url)
    small = _queries(get, url)
    populate(MORE)
    return small, _queries(get, url)


def test_every_view_answering_get_is_known_as_a_list_or_not():
    views = {route for route in ROUTES if _get_action(route) == "view"}
    assert views - VIEW_LISTS - NOT_LISTS == set(), "a new view: add it to VIEW_LISTS (and so to the test) or NOT_LISTS"


@pytest.mark.parametrize("route", API_LISTS)
def test_an_api_list_makes_as_many_queries_for_more_rows(api, route):
    small, more = _counts(api.get, f"/api/v1/{route}")
    assert more == small, f"/api/v1/{route}: {small} queries for {SMALL} rows of each kind, {more} for {SMALL + MORE}"


@pytest.mark.parametrize("name", CHANGELISTS)
def test_an_admin_changelist_makes_as_many_queries_for_more_rows(admin_client, name):
    small, more = _counts(admin_client.get, reverse(name))
    assert more == small, f"{name}: {small} queries for {SMALL} rows of each kind, {more} for {SMALL + MORE}"


def test_the_device_page_makes_as_many_queries_for_more_interfaces(admin_client):
    device = populate(1, interfaces=2)[0]
    url = reverse("admin:devices_device_change", args=[device.pk])
    admin_client.get(url)
    small = _queries(admin_client.get, url)
    Interface.objects.bulk_create([Interface(device=device, if_index=x, name=f"Gi0/{x}") for x in range(3, 9)])
    more = _queries(admin_client.get, url)
    assert more == small and Device.objects.get(pk=device.pk).interfaces.count() == 8, (small, more)
