"""{% setup_pending as items %}: the setup checklist's open items, for the admin index."""
from django import template

from wardsite import setup_checks

register = template.Library()


@register.simple_tag(takes_context=True)
def setup_pending(context: template.Context) -> list[setup_checks.Pending]:
    return setup_checks.pending(context["request"])
