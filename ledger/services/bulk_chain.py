"""Hash-chained journal writing for bulk paths: ids reserved up front, entries and postings
chained in Python in order and written in batches (see `ledger.services.bulk`).

Rows are kept as tuples and written by `RowWriter`: on SQLite straight to the driver's
`executemany`, every value bound beforehand exactly as SQLAlchemy binds it for its column,
which spares Core's per-row parameter processing (the larger part of a bulk insert's cost
there); on other databases through Core executemany, which binds them itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import date, datetime
from json.encoder import encode_basestring
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.chain import iso_utc
from ledger.day_totals import add_day_totals
from ledger.db.tables import GENESIS_HASH, core_table
from ledger.journal import lock_chain
from ledger.services.errors import ServiceError

__all__ = ["CHUNK", "ENTRY_COLUMNS", "POSTING_COLUMNS", "ChainWriter", "RowWriter", "reserve_ids"]

# Rows written per executemany round; bounds memory at any batch size.
CHUNK = 5_000
ENTRY_COLUMNS = ("id", "seq", "kind", "occurred_on", "memo", "created_by", "created_at",
                 "reverses_id", "loan_id", "prev_hash", "hash")
POSTING_COLUMNS = ("entry_id", "account_id", "currency", "amount_minor", "loan_id", "component")


def reserve_ids(session: Session, table: str, count: int) -> list[int]:
    """`count` new primary keys for `table`, ascending, that no other insert will take: the
    table's sequence on PostgreSQL; past the largest id on SQLite (whose write lock is held)."""
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(sa.text(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
            "FROM generate_series(1, :n)"), {"n": count}).scalars()
        return sorted(int(x) for x in rows)
    t = core_table(table)
    top = int(session.execute(sa.select(sa.func.max(t.c.id))).scalar() or 0)
    return list(range(top + 1, top + 1 + count))


class _Bound(dict[Any, Any]):
    """Values bound by one column processor, each computed once (dates and times repeat)."""

    def __init__(self, process: Callable[[Any], Any]) -> None:
        super().__init__()
        self.process = process

    def __missing__(self, value: Any) -> Any:
        bound = self[value] = self.process(value)
        return bound


def _unchanged(value: Any) -> Any:
    return value


def _json(value: int | str | None) -> str:
    # One scalar as `json.dumps(..., ensure_ascii=False)` writes it.
    if value is None:
        return "null"
    if isinstance(value, str):
        return encode_basestring(value)
    return int.__repr__(value)


def _posting_key(line: tuple[int, str, int, int | None, str | None]
                 ) -> tuple[str, int, int, str]:
    # `PostingContent`'s sort key; every posting of an entry is in the entry's currency.
    return (line[1], line[2], -1 if line[3] is None else line[3], line[4] or "")


def _hashed_text(prev: str, seq: int, kind: str, occurred_on: date, memo: str, by: str,
                 stamp: str, loan_id: int | None, currency: str,
                 lines: list[tuple[int, str, int, int | None, str | None]]) -> str:
    """What `entry_hash(prev, content)` hashes for an entry that reverses nothing: the
    previous hash, a newline, `EntryContent.canonical`'s text, written out directly (the
    keys in sorted order, postings in `PostingContent` order); `stamp` is `iso_utc` of the
    entry's time. Tests hold it byte for byte to `EntryContent.canonical`."""
    # `_json` of each value written inline (":d" formats an int as `int.__repr__` does):
    # this runs for every entry of a bulk posting.
    enc = encode_basestring
    cur = enc(currency)
    text = ",".join([f"[{enc(code)},{cur},{amount:d},{'null' if lid is None else f'{lid:d}'},"
                     f"{'null' if component is None else enc(component)}]"
                     for _, code, amount, lid, component in sorted(lines, key=_posting_key)])
    return (f'{prev}\n{{"created_at":"{stamp}","created_by":{enc(by)},'
            f'"kind":{enc(kind)},"loan_id":{_json(loan_id)},'
            f'"memo":{enc(memo)},"occurred_on":"{occurred_on.isoformat()}",'
            f'"postings":[{text}],"reverses_seq":null,"seq":{seq:d}}}')


class RowWriter:
    """Inserts rows of one table given as tuples in `columns` order. Values of a column that
    SQLAlchemy converts on the way in (dates, timestamps) go through `binder(column)` first."""

    def __init__(self, session: Session, table: str, columns: Sequence[str]) -> None:
        self.session = session
        self.table = core_table(table)
        self.columns = tuple(columns)
        dialect = session.get_bind().dialect
        self.direct = dialect.name == "sqlite"
        self.sql = (f"INSERT INTO {table} ({', '.join(self.columns)}) "
                    f"VALUES ({', '.join('?' for _ in self.columns)})")
        self._binders: dict[str, Callable[[Any], Any]] = {}
        for name in self.columns:
            process = self.table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
            if self.direct and process is not None:
                self._binders[name] = _Bound(process).__getitem__

    def binder(self, column: str) -> Callable[[Any], Any]:
        """The function that prepares a value of `column` for `write` (identity when the
        database driver or Core takes the value as it is)."""
        return self._binders.get(column, _unchanged)

    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert the rows in order (one executemany)."""
        if not rows:
            return
        if self.direct:
            self.session.connection().exec_driver_sql(self.sql, list(rows))
        else:
            self.session.execute(self.table.insert(),
                                 [dict(zip(self.columns, row, strict=True)) for row in rows])


class ChainWriter:
    """Appends entries to the hash chain in Python and writes them (with their postings) in
    batches. Takes the chain lock first, exactly as `post_entry` does."""

    def __init__(self, session: Session) -> None:
        lock_chain(session)
        session.flush()
        je = core_table("journal_entry")
        last = session.execute(
            sa.select(je.c.seq, je.c.hash).order_by(je.c.seq.desc()).limit(1)).first()
        self.session = session
        self.seq, self.prev = (0, GENESIS_HASH) if last is None else (int(last[0]), str(last[1]))
        self._entry_rows = RowWriter(session, "journal_entry", ENTRY_COLUMNS)
        self._posting_rows = RowWriter(session, "posting", POSTING_COLUMNS)
        self._day = self._entry_rows.binder("occurred_on")
        self._at = self._entry_rows.binder("created_at")
        self._stamp = _Bound(iso_utc).__getitem__
        # Queued rows, as tuples in ENTRY_COLUMNS / POSTING_COLUMNS order.
        self.entries: list[tuple[Any, ...]] = []
        self.postings: list[tuple[Any, ...]] = []
        self.days: dict[tuple[date, str], dict[int, int]] = {}

    def add(self, *, entry_id: int, kind: str, occurred_on: date, memo: str, by: str,
            at: datetime, loan_id: int | None, currency: str,
            lines: list[tuple[int, str, int, int | None, str | None]]) -> None:
        """Queue one balanced entry; `lines` are (account id, account code, signed minor
        units, loan id, component) in posting order."""
        balance = 0
        for line in lines:
            if not line[2]:
                balance = 1  # a zero line: refused as an entry that does not balance
                break
            balance += line[2]
        if balance != 0:
            raise ServiceError(f"entry for loan {loan_id} on {occurred_on} does not balance")
        seq, prev = self.seq + 1, self.prev
        digest = hashlib.sha256(_hashed_text(prev, seq, kind, occurred_on, memo, by,
                                             self._stamp(at), loan_id, currency, lines)
                                .encode()).hexdigest()
        self.entries.append((entry_id, seq, kind, self._day(occurred_on), memo, by,
                             self._at(at), None, loan_id, prev, digest))
        self.postings.extend([(entry_id, acct, currency, amount, lid, component)
                              for acct, _, amount, lid, component in lines])
        # Per day and kind, then per account: the cheapest keys for a line at a time.
        day = self.days.get((occurred_on, kind))
        if day is None:
            day = self.days[(occurred_on, kind)] = {}
        for account_id, _, amount, _, _ in lines:
            day[account_id] = day.get(account_id, 0) + amount
        self.seq, self.prev = seq, digest

    def write(self) -> None:
        """Insert the queued entries, then their postings, and add them to the day totals."""
        if self.entries:
            self._entry_rows.write(self.entries)
            self._posting_rows.write(self.postings)
            add_day_totals(self.session, {(a, on, kind): amount
                                          for (on, kind), sums in self.days.items()
                                          for a, amount in sums.items()})
        self.entries, self.postings, self.days = [], [], {}
