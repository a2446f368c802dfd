"""Columns the admins of several apps share."""
from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin
from django.db import models

from wardsite.numbers import readable


def rounded_column(field: str, description: str, decimals: int | None = None) -> Callable[[models.Model], str | None]:
    """An admin column (or read-only line) showing the float `field` as readable() does; empty when None."""

    @admin.display(description=description, ordering=field)
    def column(obj: models.Model) -> str | None:
        value = getattr(obj, field)
        return None if value is None else readable(value, decimals)

    column.__name__ = field  # the cell's CSS class, as for the field itself
    return column
