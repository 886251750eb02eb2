"""Rows read by a list of keys (ids, refs) with the database driver's own cursor.

Imports and bulk posting look up tens of thousands of keys at once. Building each IN list
through SQLAlchemy, or taking its rows one at a time, cost more than the lookups; on
PostgreSQL planning a 20,000-item IN list took most of a second, and psycopg adapted a list
parameter element by element in Python. So the keys go as an IN list of placeholders on
SQLite and as one array literal (`= ANY(%s::type[])`) on PostgreSQL, 30,000 a query, in the
transaction's own connection.

`packed_columns` is for lookups that run in threads beside each other (`imports.beside`).
Python's `sqlite3` takes the interpreter lock back for every row it steps to, so two threads
each fetching 100,000 rows hand the lock to and fro and together took longer than one after
the other (1.35 s against 1.2 s at a million loans). Packed, SQLite builds each chunk's
columns into JSON texts without the lock and Python parses each in one call: the same two
took 0.78 s.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

__all__ = ["Dates", "dates", "day", "driver_rows", "packed_columns", "pg_array"]

# Keys a query: below SQLite's 32,766 parameters (3.32 and later).
_CHUNK = 30_000


def day(value: Any) -> date:
    """A date as the driver gives it: ISO text on SQLite, a `date` on PostgreSQL."""
    return date.fromisoformat(value) if isinstance(value, str) else value


class Dates(dict[Any, date]):
    """Dates as the driver gives them (ISO text on SQLite, `date`s on PostgreSQL), each
    parsed once: batched reads meet the same due, payment and disbursement dates again and
    again. ISO parsing is what SQLAlchemy's SQLite date does."""

    def __missing__(self, raw: Any) -> date:
        value = self[raw] = day(raw)
        return value


def dates(column: Sequence[Any]) -> list[date | None]:
    """A column of dates as the driver gives them (NULLs kept), each distinct value parsed
    once and the column mapped in C: a lookup of 100,000 loans has a few thousand dates."""
    parsed: dict[Any, date | None] = {raw: day(raw) for raw in set(column) if raw is not None}
    parsed[None] = None
    return list(map(parsed.__getitem__, column))


def pg_array(values: Sequence[int] | Sequence[str]) -> tuple[str, str]:
    """`values` as one PostgreSQL array literal and its type: every text quoted, its
    backslashes and double quotes escaped (so commas, braces and the word NULL stay text)."""
    if all(type(v) is int for v in values):
        return "{" + ",".join(map(str, values)) + "}", "bigint[]"
    return "{" + ",".join(['"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
                           for v in values]) + "}", "text[]"


def driver_rows(session: Session, sql: str, values: Sequence[Any]
                ) -> Iterator[tuple[Any, ...]]:
    """Rows of `sql`, whose one `{values}` is where the membership test of a column in
    `values` goes (`WHERE l.id {values}`), fetched a query of 30,000 keys at a time. No keys,
    no rows."""
    if not values:
        return
    if len(values) > _CHUNK:
        # Each query takes a run of neighbouring keys: 30,000 keys in no order, spread over a
        # million-row index, touch most of its pages; a run of them a thirtieth as many. A
        # file's 100,000 loan refs at a million loans, in set order: 581 -> 388 ms.
        values = sorted(values)
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    raw = connection.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        for start in range(0, len(values), _CHUNK):
            chunk = values[start:start + _CHUNK]
            if sqlite:
                cursor.execute(sql.format(values=f"IN ({', '.join('?' * len(chunk))})"),
                               tuple(chunk))
            else:
                literal, kind = pg_array(chunk)
                cursor.execute(sql.format(values=f"= ANY(%s::{kind})"), (literal,))
            yield from cursor.fetchall()
    finally:
        cursor.close()


def packed_columns(session: Session, sql: str, values: Sequence[Any], width: int
                   ) -> list[list[Any]]:
    """The rows of `driver_rows` for a query of `width` columns, as `width` lists (a row's
    values at the same index of each), in no set order, holding only integers, texts and
    NULLs: on SQLite each chunk's columns come back as JSON texts (see the module docstring),
    elsewhere the driver's rows are turned about. Column lists let the caller build its
    dictionaries with `zip`, in C, instead of a Python step per row."""
    connection = session.connection()
    if connection.dialect.name != "sqlite" or not values:
        return _turned(driver_rows(session, sql, values), width)
    names = ", ".join(f"c{i}" for i in range(width))
    arrays = ", ".join(f"json_group_array(c{i})" for i in range(width))
    packed = f"WITH q({names}) AS ({sql}) SELECT {arrays} FROM q"
    out: list[list[Any]] = [[] for _ in range(width)]
    try:
        texts = list(driver_rows(session, packed, values))
    except sqlite3.OperationalError as exc:  # a SQLite built without its JSON functions
        if "json_" not in str(exc):
            raise
        return _turned(driver_rows(session, sql, values), width)
    for chunk in texts:
        for column, text in zip(out, chunk, strict=True):
            column.extend(json.loads(text))
    return out


def _turned(rows: Iterator[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows of `width` values as `width` column lists, turned about in C (`zip`)."""
    got = list(rows)
    if not got:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*got, strict=True)]
