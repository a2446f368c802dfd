"""API throttling: every scope answers 429 with Retry-After past its rate, scopes count apart, a rate can be off,
the counters live in Redis, and the SCOPES table names real routes."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.urls import URLResolver, get_resolver, path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from devices.models import Device
from tests.fixtures import api_client_for
from wardsite import kv, throttles
from wardsite.env import env_rate

pytestmark = [pytest.mark.django_db, pytest.mark.urls("wardsite.tests.test_throttling")]
RELAXED = {"anon": None, "user": None, "login": None, "scan": None, "poll": None}


class PublicView(APIView):
    """Open to anyone: only the anonymous rate limits it."""

    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"ok": True})


class TokenLoginView(PublicView):
    """Stands for a library's login view that names its scope itself (django-rest-knox's LoginView, say)."""

    throttle_scope = "login"


def _site_urls() -> list:
    from wardsite.urls import urlpatterns

    return urlpatterns


urlpatterns = [path("public/", PublicView.as_view()), path("token-login/", TokenLoginView.as_view()), *_site_urls()]


@pytest.fixture
def rates(monkeypatch):
    """Set the rates for the test (DRF reads them once, at import: the class attribute is what counts) on empty
    counters."""
    connection = kv.connection()
    for key in connection.scan_iter("wardflux:cache:*throttle_*"):
        connection.delete(key)

    def set_rates(**changed: str | None) -> None:
        monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {**RELAXED, **changed})

    return set_rates


def third_is_throttled(send) -> None:
    first, second, third = send(), send(), send()
    assert first.status_code != 429 and second.status_code != 429
    assert third.status_code == 429, third.content
    assert int(third["Retry-After"]) > 0 and "throttled" in third.json()["detail"]


def test_a_user_past_the_user_rate_gets_a_429_with_retry_after(rates, admin_user):
    rates(user="2/min")
    client = api_client_for(admin_user)
    third_is_throttled(lambda: client.get("/api/v1/devices/"))
    other = User.objects.create_superuser("other")
    assert api_client_for(other).get("/api/v1/devices/").status_code == 200  # counted per user


def test_an_anonymous_client_past_the_anon_rate_gets_a_429(rates):
    rates(anon="2/min")
    client = APIClient(REMOTE_ADDR="127.0.0.77")
    third_is_throttled(lambda: client.get("/public/"))
    assert APIClient(REMOTE_ADDR="127.0.0.78").get("/public/").status_code == 200  # counted per address


def test_a_forged_x_forwarded_for_does_not_escape_the_anon_rate(rates):
    rates(anon="2/min")
    client = APIClient(REMOTE_ADDR="127.0.0.79")
    forged = iter(["10.0.0.1", "10.0.0.2", "10.0.0.3"])
    third_is_throttled(lambda: client.get("/public/", HTTP_X_FORWARDED_FOR=next(forged)))


def test_a_view_naming_the_login_scope_is_limited_by_the_login_rate(rates):
    rates(login="2/min")
    client = APIClient(REMOTE_ADDR="127.0.0.80")
    third_is_throttled(lambda: client.get("/token-login/"))
    assert client.get("/public/").status_code == 200  # the other routes are not


def test_the_token_login_is_limited_by_the_login_rate(rates):
    rates(login="2/min")
    client = APIClient(REMOTE_ADDR="127.0.0.81")
    third_is_throttled(lambda: client.post("/api/v1/auth/login", {"username": "nobody", "password": "guess"},
                                           format="json"))


def test_the_poll_scope_limits_tests_and_polls_together_and_nothing_else(rates, admin_user):
    rates(poll="2/min")
    client = api_client_for(admin_user)
    device = Device.objects.create(name="no-credential", address="127.0.0.2")  # refused at once: nothing is sent
    assert client.get("/api/v1/monitoring/snmp/test", {"device": device.pk}).status_code == 400
    assert client.post("/api/v1/monitoring/snmp/poll", {"device": device.pk}, format="json").status_code == 400
    throttled = client.get("/api/v1/monitoring/snmp/test", {"device": device.pk})
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
    assert client.get("/api/v1/devices/").status_code == 200


def test_the_scan_scope_limits_scans(rates, admin_user):
    rates(scan="2/min")
    client = api_client_for(admin_user)
    third_is_throttled(lambda: client.post("/api/v1/monitoring/discovery/scan", {}, format="json"))


def test_a_rate_that_is_off_limits_nothing(rates, admin_user):
    rates(poll=None, user=None)
    client = api_client_for(admin_user)
    statuses = {client.get("/api/v1/monitoring/snmp/test", {"device": 0}).status_code for _ in range(5)}
    assert statuses == {400}


def test_the_counters_are_kept_in_redis_for_every_worker(rates, admin_user):
    rates(user="100/min")
    api_client_for(admin_user).get("/api/v1/devices/")
    assert list(kv.connection().scan_iter(f"wardflux:cache:*throttle_user_{admin_user.pk}"))


def _route_names(resolver: URLResolver, namespace: str = "") -> set[str]:
    names = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace]))
            names |= _route_names(pattern, inner)
        elif pattern.name:
            names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
    return names


@pytest.mark.urls("wardsite.urls")
def test_every_route_named_in_the_scopes_exists():
    named = {name for names in throttles.SCOPES.values() for name in names}
    assert named and named <= _route_names(get_resolver())


@pytest.mark.parametrize("value, rate", [("10/min", "10/min"), ("5/Hour", "5/hour"), ("0", None), ("off", None)])
def test_a_rate_setting_is_a_count_per_period_or_off(monkeypatch, value, rate):
    monkeypatch.setenv("API_THROTTLE_TEST", value)
    assert env_rate("API_THROTTLE_TEST", "1/s") == rate


@pytest.mark.parametrize("value", ["ten/min", "10/week", "0/min", "10"])
def test_a_bad_rate_setting_stops_start_up_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("API_THROTTLE_TEST", value)
    with pytest.raises(ImproperlyConfigured, match="API_THROTTLE_TEST=.* is not a rate like 10/min"):
        env_rate("API_THROTTLE_TEST", "1/s")
