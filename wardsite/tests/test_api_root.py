"""/api/v1/ lists every route of every app, and every route answers the same with and without its trailing slash."""
from __future__ import annotations

import re

import pytest
from django.urls import get_resolver, resolve, reverse

from wardsite.api_root import api_routes

pytestmark = pytest.mark.django_db
ROOT = "/api/v1/"


def registered_urls() -> dict[str, str]:
    """Every named route of the `*-api` namespaces and the schema and docs, as Django reverses it with 1 for each
    argument, by its name; a router's `-detail` routes left out."""
    urls = {name: reverse(name) for name in ("schema", "api-docs")}
    for namespace, (_, resolver) in get_resolver().namespace_dict.items():
        if not namespace.endswith("-api"):
            continue
        for name in filter(lambda key: isinstance(key, str) and not key.endswith("-detail"), resolver.reverse_dict):
            variants = [params for bits, *_ in resolver.reverse_dict.getlist(name) for _, params in bits]
            params = min(variants, key=len)  # not the format-suffix variant
            urls[f"{namespace}:{name}"] = reverse(f"{namespace}:{name}", kwargs=dict.fromkeys(params, 1))
    return urls


def test_the_root_lists_every_route_of_every_app(api):
    listed = api.get(ROOT).json()
    concrete = {re.sub(r"\{\w+\}", "1", url.removeprefix("http://testserver")).rstrip("/") for url in listed.values()}
    missing = {name: url for name, url in registered_urls().items() if url.rstrip("/") not in concrete}
    assert not missing, f"routes left out of {ROOT}: {missing}"
    assert {"monitoring/icmp/history/{device_id}", "devices/{id}/auto-template", "monitoring/discovery/scan",
            "schema", "docs"} <= set(listed)


def test_everything_the_root_lists_is_a_route(api):
    for route, url in api.get(ROOT).json().items():
        assert url == f"http://testserver{ROOT}{route}"
        resolve(ROOT + re.sub(r"\{\w+\}", "1", route))  # Resolver404 if not


@pytest.mark.parametrize("route", ["", *(route for route in api_routes() if "{" not in route)])
def test_it_answers_the_same_with_and_without_the_trailing_slash(api, route):
    without, with_slash = api.get((ROOT + route).rstrip("/")), api.get((ROOT + route).rstrip("/") + "/")
    assert without.status_code not in (301, 404), without
    assert with_slash.status_code == without.status_code
