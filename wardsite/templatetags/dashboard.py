"""{% dashboard_panels as panels %}: the dashboard's panels this user may see, each with its HTML (wardsite/dashboard.py)."""
from django import template

from wardsite import dashboard

register = template.Library()


@register.simple_tag(takes_context=True)
def dashboard_panels(context: template.Context) -> list[tuple[dashboard.Panel, str]]:
    request = context["request"]
    return [(panel, panel.first_render(request)) for panel in dashboard.visible(request)]


@register.simple_tag
def dashboard_refresh_seconds() -> int:
    return dashboard.refresh_seconds()
