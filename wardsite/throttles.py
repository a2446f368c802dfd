"""API throttling: which routes count against which scope's rate, in one table.

Every request counts against the user's rate (`user`; anonymous ones against their client address's, `anon`);
the routes below count against their scope's rate as well. Rates are settings (API_THROTTLE_*, see
docs/configuration.md), counted in Django's cache (Redis), so all web workers share them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle

if TYPE_CHECKING:  # rest_framework.views imports the throttle classes named in the settings: no import cycle
    from rest_framework.request import Request
    from rest_framework.views import APIView

# scope -> URL names (namespace:name) of the routes it limits
SCOPES: dict[str, tuple[str, ...]] = {
    # obtaining a token or a session: guessing passwords
    "login": ("auth-api:login",),
    # starting a discovery scan: packets to whole networks
    "scan": ("discovery-api:scan",),
    # asking devices or servers now: SNMP requests, template discovery walks, Zabbix API calls
    "poll": (
        "snmp-api:test", "snmp-api:poll",
        "templates-api:monitoringtemplate-apply", "templates-api:monitoringtemplate-unlink",
        "templates-api:auto-template",
        "zabbix-api:zabbixserver-test", "zabbix-api:zabbixserver-sync", "zabbix-api:import",
    ),
}
_SCOPE_OF = {name: scope for scope, names in SCOPES.items() for name in names}


def scope_of(request: Request, view: APIView) -> str | None:
    """The scope limiting this request: by its route's name in SCOPES, else the view's own `throttle_scope`
    (DRF's way, for a view from a library), else none."""
    match = request.resolver_match
    return _SCOPE_OF.get(match.view_name if match else "") or getattr(view, "throttle_scope", None)


class ScopedThrottle(ScopedRateThrottle):
    """DRF's ScopedRateThrottle with the scope taken from SCOPES; a scope whose rate is off (None) lets all pass."""

    def allow_request(self, request: Request, view: APIView) -> bool:
        self.scope = scope_of(request, view)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return SimpleRateThrottle.allow_request(self, request, view)
