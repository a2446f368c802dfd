"""The permission matrix: every API route × every method × {anonymous, no permissions, Viewer, Operator, Administrator}.

The routes come from the URL resolver, so a route added tomorrow is in the matrix tomorrow: it fails until EXPECTED
says which role it is for (docs/permissions.md), and then until its view really asks for that role's permission.
Requests carry no valid body and name objects that do not exist: an allowed user gets past the permission check
(400, 404, 409…, never 401/403 and never a server error), a refused one gets 401/403 (a page: the login form),
and nothing is changed.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.urls import URLResolver, get_resolver
from django.utils.regex_helper import normalize
from rest_framework.test import APIClient
from rest_framework.views import APIView

from wardsite.permissions import ModelPermissions
from wardsite.roles import ADMINISTRATOR, OPERATOR, VIEWER

ANYONE, ANY = "anyone", "any logged-in user"
LEVELS = [ANY, VIEWER, OPERATOR, ADMINISTRATOR]  # each level can do what the ones before it can
MISSING = 999_999_999  # the id in every route that takes one: no such object


def model_routes(name: str, *, read: str | None = VIEWER, create: str | None = None, change: str | None = None,
                 delete: str | None = None) -> dict[str, dict[str, str]]:
    """A router's list and detail routes of one model: who reads, creates, changes, deletes (None: no such method)."""
    listing = {"get": read, "post": create}
    detail = {"get": read, "put": change, "patch": change, "delete": delete}
    return {f"{name}-list": {m: r for m, r in listing.items() if r},
            f"{name}-detail": {m: r for m, r in detail.items() if r}}


def writable(name: str, *, read: str = VIEWER, write: str = ADMINISTRATOR) -> dict[str, dict[str, str]]:
    return model_routes(name, read=read, create=write, change=write, delete=write)


A, O, V = ADMINISTRATOR, OPERATOR, VIEWER
EXPECTED: dict[str, dict[str, str]] = {
    "api-root": {"get": ANY}, "schema": {"get": ANY}, "api-docs": {"get": ANY},
    "auth-api:login": {"post": ANYONE},  # with a user name and password
    "auth-api:logout": {"post": ANY}, "auth-api:logoutall": {"post": ANY},
    "auth-api:tokens": {"get": ANY}, "auth-api:token": {"delete": ANY},  # one's own tokens
    **model_routes("devices-api:device", create=O, change=O, delete=A), "devices-api:device-graphs": {"get": V},
    **writable("devices-api:devicegroup"), **writable("devices-api:tag"), **writable("devices-api:monitoringprofile"),
    **model_routes("templates-api:monitoringtemplate", delete=A),
    "templates-api:monitoringtemplate-import-": {"post": A},
    "templates-api:monitoringtemplate-export": {"get": V},
    "templates-api:monitoringtemplate-apply": {"post": O},
    "templates-api:monitoringtemplate-unlink": {"post": O},
    "templates-api:auto-template": {"post": O},
    "snmp-api:test": {"get": O}, "snmp-api:poll": {"post": O},
    **writable("snmp-api:snmpcredential", read=O),
    **writable("snmp-api:monitoringitem", write=O),
    **model_routes("snmp-api:interface", change=O),
    "icmp-api:status": {"get": V}, "icmp-api:history": {"get": V},
    "reports-api:availability": {"get": V},
    "alerts-api:alert-detail": {"get": V},
    "alerts-api:alert-active": {"get": V}, "alerts-api:alert-history": {"get": V},
    "alerts-api:alert-acknowledge": {"post": O}, "alerts-api:alert-resolve": {"post": O},
    **writable("alerts-api:alertrule"),
    **writable("alerts-api:notificationchannel", read=A),
    **writable("alerts-api:maintenancewindow", write=O),
    "discovery-api:scan": {"post": O}, "discovery-api:add-devices": {"post": O},
    **writable("discovery-api:discoveryrule"),
    **model_routes("discovery-api:discoveryrun"), **model_routes("discovery-api:discoveryresult"),
    **writable("zabbix-api:zabbixserver", read=A),
    "zabbix-api:zabbixserver-sync": {"post": A}, "zabbix-api:zabbixserver-test": {"post": A},
    "zabbix-api:import": {"post": A},
    **model_routes("zabbix-api:zabbixhost"), **model_routes("zabbix-api:zabbixproblem"),
    **model_routes("audit-api:logentry", read=A),
}


@dataclass(frozen=True)
class Route:
    name: str
    path: str  # with MISSING for every argument
    methods: tuple[str, ...]


def api_routes(patterns=None, prefix: str = "", namespace: str = "") -> list[Route]:
    """Every DRF route under /api/v1/, from the URL resolver (format-suffix duplicates left out)."""
    routes = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        regex = prefix + entry.pattern.regex.pattern.removeprefix("^")
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            routes += api_routes(entry.url_patterns, regex, inner)
            continue
        view = getattr(entry.callback, "cls", None)
        template, params = normalize(regex)[0]
        if view is None or not template.startswith("api/v1") or "format" in params:
            continue
        methods = (sorted(entry.callback.actions) if getattr(entry.callback, "actions", None) else
                   [m for m in view.http_method_names if hasattr(view, m) and m not in ("head", "options")])
        routes.append(Route(namespace + entry.name, "/" + template % dict.fromkeys(params, MISSING), tuple(methods)))
    return routes


ROUTES = api_routes()
CASES = [(route, method) for route in ROUTES for method in route.methods]


def test_every_route_and_method_says_who_may_use_it():
    found = {(route.name, method) for route, method in CASES}
    expected = {(name, method) for name, methods in EXPECTED.items() for method in methods}
    assert found - expected == set(), "routes without a role in EXPECTED (docs/permissions.md): add them"
    assert expected - found == set(), "EXPECTED names routes or methods that no longer exist"


@pytest.fixture(scope="module")
def users(django_db_setup, django_db_blocker) -> dict[str, User | None]:
    """One user per role (the groups of migration wardsite 0001), one without any permission, and anonymous."""
    with django_db_blocker.unblock():
        made = {"anonymous": None, "no permissions": User.objects.create_user("matrix-nobody")}
        for role in (VIEWER, OPERATOR, ADMINISTRATOR):
            made[role] = User.objects.create_user(f"matrix-{role.lower()}")
            made[role].groups.add(Group.objects.get(name=role))
        yield made
        User.objects.filter(username__startswith="matrix-").delete()


def _allowed(who: str, level: str) -> bool:
    if level == ANYONE:
        return True
    if who == "anonymous":
        return False
    if who == "no permissions":
        return level == ANY
    return LEVELS.index(level) <= LEVELS.index(who)


@pytest.mark.django_db
@pytest.mark.parametrize("route, method", CASES, ids=[f"{route.name} {method.upper()}" for route, method in CASES])
def test_permission_matrix(users, route, method):
    level = EXPECTED.get(route.name, {}).get(method)
    assert level, f"{route.name} {method.upper()} has no role in EXPECTED"
    for who, user in users.items():
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        response = getattr(client, method)(route.path, {}, format="json") if method != "get" else client.get(route.path)
        status = response.status_code
        assert status < 500, f"{who}: {method.upper()} {route.path} → {status}"
        if _allowed(who, level):
            assert status not in (401, 403), f"{who} may {method.upper()} {route.path} ({level}) but got {status}"
        else:
            to_login = status == 302 and "/login/" in response["Location"]  # a page: the login form instead
            assert status in (401, 403) or to_login, f"{who} may not {method.upper()} {route.path} ({level}) but got {status}"


def test_a_view_that_names_no_permission_is_refused_to_everyone(rf, admin_user):
    """The default permission: without a model to take permissions from, nobody passes — not even a superuser."""

    class Unguarded(APIView):
        def get(self, request):
            raise AssertionError("never reached")

    request = rf.get("/")
    request.user = admin_user
    assert not ModelPermissions().has_permission(APIView().initialize_request(request), Unguarded())


@pytest.mark.django_db
def test_the_roles_exist_and_build_on_each_other():
    perms = {name: set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))
             for name in (VIEWER, OPERATOR, ADMINISTRATOR)}
    assert perms[VIEWER] < perms[OPERATOR] < perms[ADMINISTRATOR]
    assert "view_device" in perms[VIEWER] and "view_snmpcredential" not in perms[VIEWER]
    assert "view_notificationchannel" not in perms[OPERATOR] and "change_alert" in perms[OPERATOR]


def test_every_admin_action_declares_its_permissions():
    """An admin action without `permissions=` is offered to anyone who can see the list (a view-only user could
    send test notifications or start scans)."""
    undeclared = []
    for model, model_admin in admin.site._registry.items():
        for name in model_admin.actions or ():
            function = name if callable(name) else getattr(model_admin, name, None) or admin.site.get_action(name)
            if not getattr(function, "allowed_permissions", None):
                undeclared.append(f"{model._meta.label}: {getattr(function, '__name__', name)}")
    assert undeclared == []
