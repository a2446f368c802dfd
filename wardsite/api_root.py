"""`/api/v1/`: one root listing every API route of every app, read from the URL resolver."""
from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator

from django.urls import URLResolver, get_resolver, get_script_prefix
from django.utils.regex_helper import normalize
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

API_PREFIX = "api/v1/"


def api_routes(patterns: Iterable | None = None, prefix: str = "") -> Iterator[str]:
    """Every route under /api/v1/ as a path template, e.g. `monitoring/icmp/history/{device_id}` (`{pk}` as `{id}`).

    A router's `-detail` routes and format-suffix duplicates (`devices.json`) are left out; the root itself is "".
    """
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        regex = prefix + entry.pattern.regex.pattern.removeprefix("^")
        if isinstance(entry, URLResolver):
            yield from api_routes(entry.url_patterns, regex)
            continue
        if entry.name and entry.name.endswith("-detail"):  # one object: the list route beside it says where
            continue
        for template, params in normalize(regex):
            if template.startswith(API_PREFIX) and "format" not in params:
                yield template.removeprefix(API_PREFIX) % {p: "{id}" if p == "pk" else f"{{{p}}}" for p in params}


class APIRootView(APIView):
    """Every route of the API; those taking an argument are shown as templates (`.../history/{device_id}`)."""

    schema = None  # not an endpoint of the schema itself
    permission_classes = [IsAuthenticated]  # route names only: for anyone logged in

    def get(self, request: Request) -> Response:
        base = request.build_absolute_uri(get_script_prefix() + API_PREFIX)
        return Response({route: base + route for route in _routes() if route})


@functools.lru_cache(maxsize=1)
def _routes() -> tuple[str, ...]:
    """`api_routes()` once per process, without duplicates: the URLconf does not change while it runs, and walking
    it took ~8 ms a request."""
    return tuple(dict.fromkeys(api_routes()))
