"""Secrets stored in the database, encrypted with Fernet keys from FERNET_KEYS.

django-fernet-encrypted-fields does the field plumbing; we supply the keys (FERNET_KEYS, first one
encrypts, all decrypt) and refuse to hand back ciphertext when no key fits, which the package's
own field would silently do.
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, models, transaction
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


class SecretJSONField(SecretField):
    """A JSON object stored encrypted as one text, e.g. the settings of a channel that carry tokens; {} when empty."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("default", dict)
        kwargs.setdefault("max_length", 10000)  # characters of the JSON text (checked in run_validators)
        super().__init__(*args, **kwargs)

    def get_prep_value(self, value: Any) -> str:
        value = self.to_python(value)
        return fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode() if value else ""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> dict[str, Any]:
        text = super().from_db_value(value, expression, connection)
        return json.loads(text) if text else {}

    def to_python(self, value: Any) -> dict[str, Any]:
        if isinstance(value, str):  # from a form or a fixture: JSON text
            try:
                value = json.loads(value) if value.strip() else {}
            except ValueError:
                value = None
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ValidationError("a JSON object is required", code="invalid")
        return value

    def run_validators(self, value: Any) -> None:
        if len(json.dumps(value)) > self.max_length:
            raise ValidationError(f"at most {self.max_length} characters as JSON", code="max_length")


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


def encrypted_with(key: str, using: str = "default") -> dict[str, int]:
    """How many stored secrets, per `app.Model.field`, the Fernet `key` decrypts (read raw, not through the field).

    Tables and columns not created yet (`migrate` runs the checks before it migrates) are skipped.
    """
    connection, single = connections[using], Fernet(key)
    tables = set(connection.introspection.table_names())
    found: dict[str, int] = {}
    for model, names in secret_models():
        table = model._meta.db_table
        if table not in tables:
            continue
        with connection.cursor() as cursor:
            columns = {c.name for c in connection.introspection.get_table_description(cursor, table)}
            for name in names:
                column = model._meta.get_field(name).column
                if column not in columns:
                    continue
                quoted, quoted_table = connection.ops.quote_name(column), connection.ops.quote_name(table)
                cursor.execute(f"SELECT {quoted} FROM {quoted_table} WHERE {quoted} <> ''")  # our own names
                count = sum(_decrypts(single, value) for (value,) in cursor.fetchall())
                if count:
                    found[f"{model._meta.label}.{name}"] = count
    return found


def _decrypts(key: Fernet, value: str) -> bool:
    try:
        key.decrypt(value.encode())
    except InvalidToken:
        return False
    return True
