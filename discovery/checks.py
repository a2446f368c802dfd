"""Startup checks of the discovery settings (manage.py check, migrate, runserver)."""
from django.conf import settings
from django.core.checks import Error, register

from discovery import classifier, targets


@register()
def discovery_settings(app_configs, **kwargs) -> list[Error]:
    errors = []
    try:
        targets.parse(settings.DISCOVERY_ALLOWED_NETWORKS)
    except targets.TargetError as exc:
        errors.append(Error(f"DISCOVERY_ALLOWED_NETWORKS: {exc}", id="discovery.E001"))
    try:
        classifier.rules()
    except ValueError as exc:
        errors.append(Error(f"DISCOVERY_CLASSIFIER_FILE: {exc}", id="discovery.E002"))
    return errors
