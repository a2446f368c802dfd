"""Secrets stored in the database, encrypted with Fernet keys from FERNET_KEYS.

django-fernet-encrypted-fields does the field plumbing; we supply the keys (FERNET_KEYS, first one
encrypts, all decrypt) and never hand back ciphertext when no key fits, which the package's own field
would silently do. Such a value loads as an `UnreadableSecret` instead of raising, so one bad row fails
alone (its poll, its delivery, its sync: `require_readable`) and never a list or a batch of rows.
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


class SecretDecryptionError(ValueError):
    """A stored secret cannot be decrypted with any key in FERNET_KEYS (a ValueError: an unusable setting)."""


class UnreadableSecret:
    """What a secret field holds when no key in FERNET_KEYS decrypts the stored value.

    Falsy (no usable secret), never the secret itself; saving the row keeps the stored ciphertext unchanged, so
    putting the key back in FERNET_KEYS recovers it. Code that uses a secret calls `require_readable` first.
    """

    __slots__ = ("ciphertext",)

    def __init__(self, ciphertext: str) -> None:
        self.ciphertext = ciphertext

    def __bool__(self) -> bool:
        return False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnreadableSecret) and other.ciphertext == self.ciphertext

    def __hash__(self) -> int:
        return hash(self.ciphertext)

    def __repr__(self) -> str:
        return "<unreadable secret>"

    __str__ = __repr__


def unreadable_fields(obj: models.Model) -> list[str]:
    """The names of `obj`'s secret fields whose stored value no key decrypts (deferred fields are not loaded)."""
    loaded = obj.__dict__
    return [f.name for f in obj._meta.concrete_fields
            if isinstance(f, SecretField) and isinstance(loaded.get(f.attname), UnreadableSecret)]


def unreadable_message(obj: models.Model, names: list[str]) -> str:
    """The error of an object whose secrets `names` cannot be decrypted, naming the object."""
    return (f"{obj._meta.verbose_name} {str(obj)!r}: {', '.join(names)} cannot be decrypted with any key in "
            "FERNET_KEYS (was the key that encrypted it removed? put it back in FERNET_KEYS, or enter the secret "
            "again)")


def require_readable(obj: models.Model, *names: str) -> None:
    """SecretDecryptionError naming the object if any of its secret fields (`names`, default all) is unreadable."""
    bad = [name for name in unreadable_fields(obj) if not names or name in names]
    if bad:
        raise SecretDecryptionError(unreadable_message(obj, bad))


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
        if isinstance(value, UnreadableSecret):
            return value.ciphertext  # kept as stored: the key that reads it may come back
        return super().get_prep_value(value) or ""  # the package stores None for empty; the column is NOT NULL

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | UnreadableSecret | None:
        if not value:
            return value
        try:
            return fernet().decrypt(value.encode()).decode()
        except InvalidToken:
            return UnreadableSecret(value)

    def to_python(self, value: Any) -> Any:
        # values reaching to_python come from forms and fixtures: they are plaintext already
        if isinstance(value, UnreadableSecret):
            return value
        return models.CharField.to_python(self, value)

    def run_validators(self, value: Any) -> None:
        if not isinstance(value, UnreadableSecret):
            super().run_validators(value)


class SecretJSONField(SecretField):
    """A JSON object stored encrypted as one text, e.g. the settings of a channel that carry tokens; {} when empty."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("default", dict)
        kwargs.setdefault("max_length", 10000)  # characters of the JSON text (checked in run_validators)
        super().__init__(*args, **kwargs)

    def get_prep_value(self, value: Any) -> str:
        if isinstance(value, UnreadableSecret):
            return value.ciphertext
        value = self.to_python(value)
        return fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode() if value else ""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> dict[str, Any] | UnreadableSecret:
        text = super().from_db_value(value, expression, connection)
        if isinstance(text, UnreadableSecret):
            return text
        return json.loads(text) if text else {}

    def to_python(self, value: Any) -> dict[str, Any] | UnreadableSecret:
        if isinstance(value, UnreadableSecret):
            return value
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
        if isinstance(value, UnreadableSecret):
            return
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
                require_readable(obj)  # all or nothing: one unreadable secret stops the rotation
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
