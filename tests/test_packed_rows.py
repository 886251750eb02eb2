"""`packed_columns` gives the rows `driver_rows` gives, a list per column (as JSON on SQLite,
turned about elsewhere): integers past 2**53, texts of any character, NULLs, over more keys
than one query takes; and the same again on a SQLite built without its JSON functions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from ledger.services import driver
from ledger.services.driver import dates, driver_rows, packed_columns

TEXTS = ['R,1', 'R"2', "R\\3", "R{4}", "NULL", "ស្រី-5", " R6 ", "R'7", "[1]", "a\nb", ""]
BIG = 2**62 + 3  # past a float's exact integers: JSON must keep it whole


def _fill(session: Session, rows: int) -> list[int]:
    session.execute(sa.text("CREATE TABLE odd_rows (k BIGINT PRIMARY KEY, t TEXT, n BIGINT)"))
    session.execute(sa.text("INSERT INTO odd_rows VALUES (:k, :t, :n)"), [
        {"k": k, "t": None if k % 7 == 0 else TEXTS[k % len(TEXTS)],
         "n": None if k % 5 == 0 else BIG - k} for k in range(rows)])
    return list(range(rows))


def _rows(columns: list[list[Any]]) -> list[tuple[Any, ...]]:
    return sorted(zip(*columns, strict=True))


def test_packed_columns_hold_the_driver_rows(session: Session) -> None:
    keys = _fill(session, 31_000)  # two chunks of keys
    sql = "SELECT k, t, n FROM odd_rows WHERE k {values}"
    asked = [*keys[::2], -1]
    got = packed_columns(session, sql, asked, 3)
    assert [type(column) for column in got] == [list, list, list]
    packed = _rows(got)
    assert packed == sorted(driver_rows(session, sql, asked))
    assert len(packed) == 15_500
    assert {row[1] for row in packed} == {*TEXTS, None}
    assert (6, TEXTS[6], BIG - 6) in packed and (10, TEXTS[10], None) in packed
    assert packed_columns(session, sql, [], 3) == [[], [], []]
    assert packed_columns(session, sql, [-1], 3) == [[], [], []]


def test_dates_are_parsed_once_each_and_nulls_kept() -> None:
    raw = ["2008-04-15", None, "2008-04-15", date(2009, 1, 2)]
    got = dates(raw)
    assert got == [date(2008, 4, 15), None, date(2008, 4, 15), date(2009, 1, 2)]
    assert got[0] is got[2]


def test_without_json_functions_the_rows_come_plain(session: Session,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    keys = _fill(session, 40)
    plain = driver.driver_rows

    def no_json(s: Session, sql: str, values: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        if "json_group_array" in sql:
            raise sqlite3.OperationalError("no such function: json_group_array")
        return plain(s, sql, values)

    monkeypatch.setattr(driver, "driver_rows", no_json)
    sql = "SELECT k, t, n FROM odd_rows WHERE k {values}"
    assert _rows(packed_columns(session, sql, keys, 3)) == sorted(plain(session, sql, keys))


def test_each_query_takes_a_run_of_neighbouring_keys(session: Session) -> None:
    # Keys in no order, over two queries: each query still reads a run of neighbouring keys
    # (a thirtieth of the index pages at a million loans), so the rows of the two queries,
    # each in key order, come out in key order together.
    keys = _fill(session, 31_000)
    shuffled = keys[1::2] + keys[::2]
    got = [row[0] for row in driver_rows(
        session, "SELECT k FROM odd_rows WHERE k {values} ORDER BY k", shuffled)]
    assert got == keys
