"""Bulk writes for the day run: one prepared statement for many rows, never one ORM call each.

The daily workflow changes thousands of cases, events and work items a day; an ORM ``save``
or ``update`` per row costs a round trip, signals and a transaction savepoint each, which is
what made a day of 100,000 borrowers take minutes. These helpers keep the day's writes linear
and cheap on both SQLite (``executemany``) and PostgreSQL (``COPY`` into a temporary table,
then one statement moves the rows into place).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from django.db import connection, models, transaction
from django.db.models import Model

#: Rows per ``executemany`` call, ids per ``IN (…)`` list.
BATCH = 5000

T = TypeVar("T")


def chunks(items: Sequence[T], size: int = BATCH) -> Iterator[Sequence[T]]:
    """``items`` in slices of ``size`` (for ``IN`` lists that must stay under the database's
    limit on parameters)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def existing(model: type[Model], field: str, values: Sequence[Any]) -> set[Any]:
    """Which of ``values`` the unique column ``field`` of ``model`` holds already.

    One ``= ANY(%s)`` query on PostgreSQL (the list goes as one array parameter), raw
    ``IN (…)`` lists of :data:`BATCH` on SQLite: the ORM's ``__in`` prepares each value
    through the lookup machinery (microseconds each), which at a million borrowers' work items
    cost seconds for a question the index answers at once.
    """
    if not values:
        return set()
    quote = connection.ops.quote_name
    column = quote(model._meta.get_field(field).column)
    table = quote(model._meta.db_table)
    found: set[Any] = set()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT {column} FROM {table} WHERE {column} = ANY(%s)", [list(values)])
            found.update(row[0] for row in cursor.fetchall())
            return found
        for part in chunks(values, 900):  # under SQLite's limit on parameters
            marks = ", ".join("%s" for _ in part)
            cursor.execute(f"SELECT {column} FROM {table} WHERE {column} IN ({marks})", list(part))
            found.update(row[0] for row in cursor.fetchall())
    return found


def _preparer(field: Any) -> Callable[[Any], Any]:
    """How a value of ``field`` is made ready for the driver, decided once per column.

    Strings, integers, booleans and ids go as they are (what ``get_db_prep_save`` returns for
    them anyway); dates and times through the backend's adapters; anything else through the
    field itself. Calling ``get_db_prep_save`` for every value costs microseconds each, which
    adds up to seconds over a day's hundreds of thousands of values.
    """
    ops = connection.ops
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.CharField | models.TextField):
        return _text
    if isinstance(field, models.IntegerField | models.BooleanField | models.ForeignKey):
        return _same
    return lambda value: field.get_db_prep_save(value, connection)


def _same(value: Any) -> Any:
    return value


def _text(value: Any) -> Any:
    """A string as the driver wants it: a choices member (a ``str`` subclass) as its value."""
    return value if value is None or type(value) is str else str(value)


def update_rows(model: type[Model], names: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """``UPDATE <model> SET <names…> WHERE id = <last value>`` for each row, as one prepared
    statement run with ``executemany`` (SQLite) or one ``UPDATE … FROM`` a table filled by
    ``COPY`` (PostgreSQL); returns how many rows were given.

    Why not ``bulk_update``: it builds a CASE expression per field and row, which costs
    seconds per few thousand rows. Values are prepared by the model's fields as ``save``
    prepares them (a foreign key is named by its field, e.g. ``strategy``, and given its id).
    No signals fire: callers record what changed as keyed case events.
    """
    if not rows:
        return 0
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = f"UPDATE {quote(model._meta.db_table)} SET {sets} WHERE id = %s"
    preparers = [_preparer(field) for field in fields]
    width = len(fields)
    prepared = [
        [prepare(value) for prepare, value in zip(preparers, row, strict=False)] + [row[width]]
        for row in rows
    ]
    if connection.vendor == "postgresql":
        table = quote(model._meta.db_table)
        columns = ["id", *(f.column for f in fields)]
        sets = ", ".join(f"{quote(c)} = s.{quote(c)}" for c in columns[1:])
        with transaction.atomic(), connection.cursor() as cursor:
            staged = _stage(table, columns, [[row[-1], *row[:-1]] for row in prepared])
            cursor.execute(f"UPDATE {table} AS t SET {sets} FROM {staged} AS s WHERE t.id = s.id")
        return len(rows)
    with connection.cursor() as cursor:
        for part in chunks(prepared):
            cursor.executemany(sql, part)
    return len(rows)


def _stage(table: str, columns: list[str], rows: list[list[Any]]) -> str:
    """PostgreSQL: ``COPY`` ``rows`` into a new temporary table shaped like ``columns`` of
    ``table`` (types only, no constraints; dropped at commit); returns its name.

    ``COPY`` streams the rows with no statement per row, which is what makes the day's writes
    on PostgreSQL cost what SQLite's ``executemany`` costs; the caller then moves them into
    place with one ``INSERT … SELECT`` or ``UPDATE … FROM``.
    """
    name = f"_bulk_stage_{next(_STAGED)}"
    quote = connection.ops.quote_name
    listed = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {name} ON COMMIT DROP AS "
            f"SELECT {listed} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {name} ({listed}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return name


#: Numbers the temporary tables :func:`_stage` makes (a name must not repeat in a transaction).
_STAGED = itertools.count(1)


def insert_rows(model: type[Model], names: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """``INSERT INTO <model> … ON CONFLICT DO NOTHING`` of ``rows`` (values in ``names``
    order) as one prepared statement run with ``executemany`` (SQLite) or one ``INSERT …
    SELECT`` from a table filled by ``COPY`` (PostgreSQL); returns how many rows were inserted
    (a row whose unique key exists already is skipped by the database and not counted).

    Every other concrete column gets its field's default — computed once, not per row (so a
    column whose default must differ per row, a token say, has to be given);
    ``auto_now_add`` columns get the time of the call — and the primary key its sequence.
    Why not ``bulk_create``: it compiles each value of each row through the ORM (about ten
    microseconds each), which made the day's events and work items cost seconds; here a
    value costs its field's ``get_db_prep_save``. No model instances and no signals: the
    caller reads back the ids it needs.
    """
    if not rows:
        return 0
    from django.utils import timezone

    given = [model._meta.get_field(name) for name in names]
    now = timezone.now()
    rest: list[tuple[Any, Any]] = []
    for field in model._meta.concrete_fields:
        if field.primary_key or field in given:
            continue
        if getattr(field, "auto_now_add", False) or getattr(field, "auto_now", False):
            value = now
        else:
            value = field.get_default()
        rest.append((field, field.get_db_prep_save(value, connection)))
    quote = connection.ops.quote_name
    columns = [f.column for f in given] + [f.column for f, _ in rest]
    marks = ", ".join("%s" for _ in columns)
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
        f"VALUES ({marks}) ON CONFLICT DO NOTHING"
    )
    tail = [value for _, value in rest]
    preparers = [_preparer(field) for field in given]
    prepared = [
        [prepare(value) for prepare, value in zip(preparers, row, strict=True)] + tail
        for row in rows
    ]
    if connection.vendor == "postgresql":
        listed = ", ".join(quote(c) for c in columns)
        with transaction.atomic(), connection.cursor() as cursor:
            staged = _stage(quote(model._meta.db_table), columns, prepared)
            cursor.execute(
                f"INSERT INTO {quote(model._meta.db_table)} ({listed}) "
                f"SELECT {listed} FROM {staged} ON CONFLICT DO NOTHING"
            )
            return int(cursor.rowcount)
    inserted = 0
    with connection.cursor() as cursor:
        for part in chunks(prepared):
            cursor.executemany(sql, part)
            inserted += int(cursor.rowcount)  # sqlite3: the rows this executemany changed
    return inserted
