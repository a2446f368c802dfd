"""Start-up checks of what production must not run with (manage.py check, migrate; docs/configuration.md).

The development keys in wardsite/settings.py are public: with DEBUG off, a secret they encrypted is as good as
clear text. Settings refuse them as SECRET_KEY and as the encrypting Fernet key; these checks find what is left.
"""
from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from wardsite.secrets import encrypted_with

_ROTATE = ("put a key of your own first and the development key after it (FERNET_KEYS=<yours>,{dev}), run "
           "`manage.py rotate_secrets`, then remove the development key")


@register(Tags.security)
def development_fernet_key_listed(app_configs, **kwargs) -> list[CheckMessage]:
    if settings.DEBUG or settings.DEV_FERNET_KEY not in settings.FERNET_KEYS:
        return []
    return [Warning("FERNET_KEYS holds the development key: once `manage.py rotate_secrets` has run with your key "
                    "first, remove it", id="wardsite.W001")]


@register(Tags.security, Tags.database)
def secrets_under_development_key(app_configs, databases=None, **kwargs) -> list[CheckMessage]:
    """Secrets still encrypted with the development key (run by `migrate` and `check --database default`)."""
    if settings.DEBUG or not databases:
        return []
    errors = []
    for alias in databases:
        found = encrypted_with(settings.DEV_FERNET_KEY, using=alias)
        if found:
            where = ", ".join(f"{field}: {count}" for field, count in sorted(found.items()))
            errors.append(Error(
                f"{sum(found.values())} stored secrets are encrypted with the development key, which anyone with "
                f"this repository has ({where})",
                hint=_ROTATE.format(dev=settings.DEV_FERNET_KEY), id="wardsite.E001"))
    return errors
