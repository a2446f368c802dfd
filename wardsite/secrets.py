"""Secrets stored in the database, encrypted with Fernet keys from FERNET_KEYS.

django-fernet-encrypted-fields does the field plumbing; we supply the keys (FERNET_KEYS, first one
encrypts, all decrypt) and refuse to hand back ciphertext when no key fits, which the package's
own field would silently do.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from encrypted_fields.fields import EncryptedCharField


class SecretDecryptionError(Exception):
    """A stored secret cannot be decrypted with any key in FERNET_KEYS."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def fernet() -> MultiFernet:
    """The MultiFernet for the configured keys (first encrypts, all decrypt)."""
    return _fernet(tuple(settings.FERNET_KEYS))


class SecretField(EncryptedCharField):
    """A CharField stored encrypted; decrypted on load, never returned as ciphertext."""

    @property
    def f(self) -> MultiFernet:  # the package encrypts through `self.f`
        return fernet()

    def get_prep_value(self, value: Any) -> str:
        return super().get_prep_value(value) or ""  # the package stores None for empty; the column is NOT NULL

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if not value:
            return value
        try:
            return fernet().decrypt(value.encode()).decode()
        except InvalidToken:
            raise SecretDecryptionError(
                f"{self.model._meta.label}.{self.name}: stored secret cannot be decrypted with any key in "
                "FERNET_KEYS (was the key that encrypted it removed?)"
            ) from None

    def to_python(self, value: Any) -> Any:
        # values reaching to_python come from forms and fixtures: they are plaintext already
        return models.CharField.to_python(self, value)


def secret_models() -> list[tuple[type[models.Model], list[str]]]:
    """Every model with SecretFields, and the names of those fields."""
    found = []
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, SecretField)]
        if names:
            found.append((model, names))
    return found


def rotate_all() -> dict[str, int]:
    """Re-encrypt every stored secret with the first key; all or nothing."""
    counts = {}
    with transaction.atomic():
        for model, names in secret_models():
            rows = 0
            for obj in model.objects.only("pk", *names):
                obj.save(update_fields=names)  # loading decrypted with any key; saving encrypts with the first
                rows += 1
            counts[model._meta.label] = rows
    return counts
