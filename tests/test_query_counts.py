"""No list grows its number of queries with its rows: every API list route and every admin changelist.

Each case fills the fleet (tests/fleet_data.py) with 2 units of every kind, counts the queries of one GET as an
Administrator, grows the fleet to 6 units and counts again: the counts must be equal. A related row read per row
(an N+1) makes the second count larger, and the failure names the queries that multiplied. The routes and admin
pages come from the URL resolver and the admin site, so a list added tomorrow is measured tomorrow (or must say in
NOT_LISTS why it is not a list).
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse

from tests.fixtures import api_client_for
from tests.fleet_data import Units, grant_tokens, populate
from wardsite.api_root import API_PREFIX, api_routes

SMALL, LARGE = 2, 6  # units of the two measurements; LARGE rows of a kind fit in one page (PAGE_SIZE, list_per_page)

# Routes taking GET that are not lists of rows, and why.
NOT_LISTS = {
    "schema": "the OpenAPI document, from the code",
    "docs": "the page showing the schema",
    "monitoring/snmp/test": "asks one device by SNMP",
}
# Routes of one object whose page lists that object's rows: how to name the object (the hub gathers rows).
FILLED: dict[str, Callable[[Units], dict[str, int]]] = {
    "templates/{id}/export": lambda fleet: {"id": fleet.hub_template.pk},
    "monitoring/icmp/history/{device_id}": lambda fleet: {"device_id": fleet.hub.pk},
    "devices/{id}/graphs": lambda fleet: {"id": fleet.hub.pk},
}


def _answers_get(route: str) -> bool:
    view = resolve("/" + API_PREFIX + re.sub(r"\{\w+\}", "1", route)).func
    actions = getattr(view, "actions", None)
    return "get" in actions if actions else hasattr(view.view_class, "get")


GET_ROUTES = [route for route in dict.fromkeys(api_routes()) if _answers_get(route)]
LIST_ROUTES = [route for route in GET_ROUTES if route not in NOT_LISTS]
ADMIN_MODELS = sorted(admin.site._registry, key=lambda model: model._meta.label)
# Change pages that show an object's growing rows (inlines): the hub device and hub template.
CHANGE_PAGES: dict[str, Callable[[Units], object]] = {
    "devices.Device": lambda fleet: fleet.hub,
    "templates_app.MonitoringTemplate": lambda fleet: fleet.hub_template,
}


@pytest.fixture(autouse=True)
def fleet_history_only(db) -> None:
    """The audit pages list the fleet's entries alone: those of the data migrations (hundreds) are left out, so
    the larger fleet still fits one page."""
    LogEntry.objects.all().delete()


@dataclass
class Measured:
    queries: list[str]
    rows: int | None  # rows on the page, where the page says
    more: bool  # a next page exists: the comparison would be unfair


def test_every_get_route_is_measured_or_says_why_not():
    unfilled = [route for route in LIST_ROUTES if "{" in route and route not in FILLED]
    assert unfilled == [], "routes taking an argument: add how to fill it to FILLED, or a reason to NOT_LISTS"
    assert set(NOT_LISTS) | set(FILLED) <= set(GET_ROUTES), "NOT_LISTS or FILLED names a route that is gone"


def _measure(get: Callable[[], object], read: Callable[[object], tuple[int | None, bool]]) -> Measured:
    """The queries of one GET, after one more to warm process-wide caches (content types, permissions' names)."""
    get()
    with CaptureQueriesContext(connection) as captured:
        response = get()
    assert response.status_code == 200, f"GET answered {response.status_code}"
    rows, more = read(response)
    return Measured([query["sql"] for query in captured.captured_queries], rows, more)


def _shape(sql: str) -> str:
    """The query with its literals and id lists folded, so one query per row shows as one shape many times."""
    sql = re.sub(r"'[^']*'", "?", re.sub(r"_django_curs_\w+", "cursor", sql))
    sql = re.sub(r"\b\d+\b", "N", sql)
    return re.sub(r"IN \((N|\?)(, (N|\?))*\)", "IN (...)", sql)


def _assert_flat(small: Measured, large: Measured) -> None:
    assert not small.more and not large.more, "the larger fleet does not fit one page: the counts are not comparable"
    if small.rows is not None:
        assert large.rows > small.rows, "the page did not grow with the fleet: nothing was measured"
    if len(large.queries) != len(small.queries):
        grown = Counter(map(_shape, large.queries)) - Counter(map(_shape, small.queries))
        detail = "\n".join(f"  +{count}× {shape[:300]}" for shape, count in grown.most_common(5))
        pytest.fail(f"{len(small.queries)} queries with {SMALL} units, {len(large.queries)} with {LARGE}:\n{detail}")


def _grown(measure: Callable[[Units], Measured], owner: User) -> tuple[Measured, Measured]:
    """The measurement at SMALL units, then at LARGE."""
    fleet = populate(SMALL)
    grant_tokens(owner, SMALL)
    small = measure(fleet)
    populate(LARGE - SMALL)
    grant_tokens(owner, LARGE - SMALL)
    return small, measure(fleet)


def _api_page(response) -> tuple[int | None, bool]:
    data = response.json() if response["Content-Type"].startswith("application/json") else None
    if isinstance(data, list):
        return len(data), False
    if isinstance(data, dict) and "results" in data:
        return len(data["results"]), data.get("next") is not None  # a report has no pages
    return None, False  # one object's document


@pytest.mark.django_db
@pytest.mark.parametrize("route", LIST_ROUTES)
def test_api_list_queries_do_not_grow_with_rows(route, administrator, victoria_url):
    client = api_client_for(administrator)

    def measure(fleet: Units) -> Measured:
        path = "/" + API_PREFIX + route.format(**FILLED[route](fleet) if route in FILLED else {})
        return _measure(lambda: client.get(path), _api_page)

    _assert_flat(*_grown(measure, administrator))


def _changelist_page(response) -> tuple[int | None, bool]:
    changelist = response.context["cl"]
    return changelist.result_count, changelist.multi_page


def _admin_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("model", ADMIN_MODELS, ids=[model._meta.label for model in ADMIN_MODELS])
def test_admin_changelist_queries_do_not_grow_with_rows(model, admin_user, victoria_url):
    """As a superuser: the Administrator role does not reach every page (accounts, schedules, tokens)."""
    client, opts = _admin_client(admin_user), model._meta
    path = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    _assert_flat(*_grown(lambda fleet: _measure(lambda: client.get(path), _changelist_page), admin_user))


@pytest.mark.django_db
@pytest.mark.parametrize("label", CHANGE_PAGES)
def test_admin_change_page_queries_do_not_grow_with_its_rows(label, admin_user, victoria_url):
    client = _admin_client(admin_user)

    def measure(fleet: Units) -> Measured:
        obj = CHANGE_PAGES[label](fleet)
        path = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
        return _measure(lambda: client.get(path), lambda response: (None, False))

    _assert_flat(*_grown(measure, admin_user))


def test_the_fleet_fits_one_page():
    assert LARGE * 2 < min(settings.REST_FRAMEWORK["PAGE_SIZE"], admin.ModelAdmin.list_per_page)
