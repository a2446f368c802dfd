"""{% health_problems as problems %}: what is unhealthy now (wardsite/health.py), for the admin index's banner."""
from django import template

from wardsite import health

register = template.Library()


@register.simple_tag
def health_problems() -> list[str]:
    return health.report().problems
