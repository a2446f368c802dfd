"""Many rows updated in one statement per batch: `UPDATE … FROM (VALUES …)` (PostgreSQL; SQLite 3.33+).

Django's `bulk_update` builds a `CASE WHEN pk = … THEN …` expression per row and field: at 5,000 devices it was
77 % of a worker's CPU in the ICMP cycle (issue 16). Here each row is one tuple of parameters and the database
joins them to the table. Like `bulk_update`, it sends no signals and leaves `auto_now` fields alone.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import connections, router
from django.db.models import Model


def update_rows(objs: Sequence[Model], fields: Sequence[str], *, batch_size: int = 1000) -> int:
    """Save `fields` of every object in `objs` (all of one model); returns how many rows were updated."""
    if not objs or not fields:
        return 0
    meta = type(objs[0])._meta
    attnames = [meta.get_field(name).attname for name in fields]
    return _update(type(objs[0]), fields, ((obj.pk, *(getattr(obj, a) for a in attnames)) for obj in objs),
                   len(objs), batch_size)


def update_values(model: type[Model], rows: Sequence[Mapping[str, Any]], fields: Sequence[str], *,
                  batch_size: int = 1000) -> int:
    """`update_rows` for rows read with `values()` (each a mapping with "pk" and `fields`), no model instances
    made: a dispatcher claims a few hundred rows a second."""
    if not rows or not fields:
        return 0
    return _update(model, fields, ((row["pk"], *(row[name] for name in fields)) for row in rows), len(rows),
                   batch_size)


def _update(model: type[Model], fields: Sequence[str], rows: Iterable[tuple], count: int, batch_size: int) -> int:
    """UPDATE `fields` of `count` rows given as (pk, *values) tuples, `batch_size` rows per statement."""
    connection = connections[router.db_for_write(model)]
    meta, quote = model._meta, connection.ops.quote_name
    concrete = [meta.get_field(name) for name in fields]
    table = quote(meta.db_table)
    if connection.features.max_query_params:  # SQLite: at most so many parameters in one statement
        batch_size = min(batch_size, connection.features.max_query_params // (len(concrete) + 1))
    # A VALUES list names its columns column1, column2… in both databases: column1 is the pk.
    assignments = ", ".join(f"{quote(field.column)} = {_cast(f'v.column{n}', field, connection)}"
                            for n, field in enumerate(concrete, start=2))
    placeholder = "(" + ", ".join(["%s"] * (len(concrete) + 1)) + ")"
    prepare = [meta.pk.get_db_prep_save, *(field.get_db_prep_save for field in concrete)]
    rows, updated = iter(rows), 0
    for start in range(0, count, batch_size):
        batch = list(itertools.islice(rows, batch_size))
        params = [prep(value, connection) for row in batch for prep, value in zip(prepare, row)]
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([placeholder] * len(batch))}) "
                           f"AS v WHERE {table}.{quote(meta.pk.column)} = v.column1", params)
            updated += cursor.rowcount
    return updated


def _cast(expression: str, field, connection) -> str:
    """PostgreSQL types a VALUES column by its literals (all NULL: text): cast to the column's type. SQLite stores
    what it is given, and CAST there would turn a datetime string into a number."""
    if connection.vendor != "postgresql":
        return expression
    return f"CAST({expression} AS {field.cast_db_type(connection)})"
