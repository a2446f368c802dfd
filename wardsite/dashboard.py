"""The dashboard on the admin index: panels that apps register (devices per group, active alerts, the worst
devices, the busiest interfaces, the collectors' health...), each refreshed in place by htmx from its own URL.

wardsite knows none of the apps: each registers its panels in its AppConfig.ready(). A panel is a template and a
function giving its context; it is shown to users who hold its permission.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

Context = Callable[[HttpRequest], dict]


@dataclass(frozen=True)
class Panel:
    """One box of the dashboard; `name` is its id in the page and its URL."""

    name: str
    title: str
    template: str
    context: Context
    order: int
    permission: str = ""  # "app.codename" the user needs to see it; empty: every staff user
    lazy: bool = False  # filled in after the page has loaded (one that reads VictoriaMetrics: never holds the page)

    def visible_to(self, request: HttpRequest) -> bool:
        return not self.permission or request.user.has_perm(self.permission)

    def render(self, request: HttpRequest) -> SafeString:
        """The panel's inner HTML (its title and body), as the index shows it and its URL returns it."""
        body = render_to_string(self.template, {"panel": self, **self.context(request)}, request)
        return mark_safe(body)  # noqa: S308 - rendered by the template engine, which escaped what it printed

    def first_render(self, request: HttpRequest) -> SafeString:
        """What the index shows before htmx refreshes it: the panel, or for a lazy one its title."""
        if self.lazy:
            return render_to_string("wardsite/dashboard/loading.html", {"panel": self}, request)
        return self.render(request)


_panels: dict[str, Panel] = {}


def register(panel: Panel) -> None:
    """Add a panel (once per name, from an AppConfig.ready); lower `order` first on the page."""
    _panels[panel.name] = panel


def visible(request: HttpRequest) -> list[Panel]:
    return sorted((p for p in _panels.values() if p.visible_to(request)), key=lambda p: p.order)


def refresh_seconds() -> int:
    return settings.DASHBOARD_REFRESH_SECONDS


@admin.site.admin_view
def panel_view(request: HttpRequest, name: str) -> HttpResponse:
    """One panel's HTML, for htmx to swap into the index; 404 for a panel unknown or not for this user."""
    panel = _panels.get(name)
    if panel is None or not panel.visible_to(request):
        raise Http404("No such panel.")
    return HttpResponse(panel.render(request))  # admin_view: never cached
