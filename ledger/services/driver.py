"""Rows read by a list of keys (ids, refs) with the database driver's own cursor.

Imports and bulk posting look up tens of thousands of keys at once. Building each IN list
through SQLAlchemy, or taking its rows one at a time, cost more than the lookups; on
PostgreSQL planning a 20,000-item IN list took most of a second, and psycopg adapted a list
parameter element by element in Python. So the keys go as an IN list of placeholders on
SQLite and as one array literal (`= ANY(%s::type[])`) on PostgreSQL, 30,000 a query, in the
transaction's own connection.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

__all__ = ["day", "driver_rows", "pg_array"]

# Keys a query: below SQLite's 32,766 parameters (3.32 and later).
_CHUNK = 30_000


def day(value: Any) -> date:
    """A date as the driver gives it: ISO text on SQLite, a `date` on PostgreSQL."""
    return date.fromisoformat(value) if isinstance(value, str) else value


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
    `values` goes (`WHERE l.id {values}`), fetched a query of 30,000 keys at a time in the
    order of `values`. No keys, no rows."""
    if not values:
        return
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
