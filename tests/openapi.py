"""Check a test client's response against the API's own OpenAPI schema, as the API fuzz (tests/test_fuzz_api.py)
does against the live server: the status is documented and the body is valid. For the fuzz's regression tests."""
from __future__ import annotations

from functools import cache

import requests
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from schemathesis import Response


@cache
def _document() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


@cache
def _schema():
    return schemathesis.openapi.from_dict(_document())


def assert_conforms(response, method: str, path: str) -> None:
    """`response` (DRF's test client) to `method path` (as the schema writes it, e.g. /api/v1/devices/{id}/)
    conforms to the schema; raises AssertionError naming what does not."""
    documented = _document()["paths"][path][method.lower()]["responses"]
    assert str(response.status_code) in documented, \
        f"{method.upper()} {path} -> {response.status_code}: not documented (only {sorted(documented)})"
    request = requests.Request(method.upper(), f"http://testserver{response.wsgi_request.get_full_path()}").prepare()
    headers = {key.lower(): [value] for key, value in response.headers.items()}
    converted = Response(response.status_code, headers, response.content, request, elapsed=0.0, verify=True)
    try:
        _schema()[path][method.upper()].validate_response(converted)
    except Exception as exc:  # schemathesis raises a group of its check failures
        raise AssertionError(f"{method.upper()} {path} -> {response.status_code} breaks the schema: {exc}") from None
