"""/healthz for load balancers and people, /metrics for VictoriaMetrics (docs/operations.md)."""
from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from wardsite import health, self_metrics


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when every part is healthy, else 503. Anyone sees the verdict and the failing parts' names; staff (or
    the metrics token) also see what is wrong and each part's figures."""
    report = health.report()
    body: dict = {"status": "ok" if report.healthy else "unhealthy", "failing": report.failing()}
    if _may_see_details(request):
        body["problems"] = report.problems
        body["parts"] = {part.name: {"ok": part.ok, **part.detail} for part in report.parts}
    return JsonResponse(body, status=200 if report.healthy else 503)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """WARD FLUX's own figures in the Prometheus text format, for METRICS_TOKEN or logged-in staff."""
    if not _may_see_details(request):
        response = HttpResponse("a bearer token (METRICS_TOKEN) or a staff login is needed\n", status=401,
                                content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(self_metrics.exposition(), content_type=CONTENT_TYPE_LATEST)


def _may_see_details(request: HttpRequest) -> bool:
    return request.user.is_authenticated and request.user.is_staff or _has_metrics_token(request)


def _has_metrics_token(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
