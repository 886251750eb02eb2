"""The one pass over the journal behind `ledger.chain.scan_journal`: raw DBAPI rows, the
canonical text of each entry built from stored text, SHA-256 in a tight loop.

Entries and postings are read by two cursors in id order and merged, which is how the app
writes them (an entry, then its postings, under the chain lock). When the ids say otherwise
(an entry whose seq does not follow, a posting out of place or of no entry) the pass starts
again over entries joined to their postings in seq order, which is always right.

Timestamps are read as text ('YYYY-MM-DD HH:MM:SS.ffffff' in UTC), the form SQLite stores and
PostgreSQL's `to_char` writes, and turned into the canonical form by slicing; dates come as
SQLite's 'YYYY-MM-DD' text or PostgreSQL's `date`s, which format the same. An entry whose
stored values cannot be read that way is checked through `EntryContent` instead.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from functools import partial
from itertools import chain, groupby
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.chain import (
    GENESIS_HASH,
    BrokenEntry,
    ChainReport,
    EntryContent,
    FirstPosting,
    JournalScan,
    PostingContent,
    PostingRow,
    entry_hash,
)
from ledger.db.tables import core_table
from ledger.verify_walk import walk

__all__ = ["OutOfOrder", "Part", "id_range", "scan"]

_ENTRY_COLUMNS = ("{e}id, {e}seq, {e}kind, {occurred_on}, {e}memo, {e}created_by, {created_at}, "
                  "{e}loan_id, {e}reverses_id, {e}prev_hash, {e}hash")
_TEXT_DATES = {
    # PostgreSQL: the timestamp as the text SQLite stores, made by the server; its dates come
    # as `date`s, which format as the same 'YYYY-MM-DD'.
    "postgresql": ("{e}occurred_on",
                   "to_char({e}created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"),
}
_POSTING_COLUMNS = ("{p}entry_id, {p}account_id, {p}currency, {p}amount_minor, {p}loan_id, "
                    "{p}component")
Group = tuple[tuple[Any, ...], list[PostingRow]]
_ENTRY_ID = itemgetter(0)
_SEQ = itemgetter(1)
_NO_RUN: tuple[None, Iterator[Any]] = (None, iter(()))


class OutOfOrder(Exception):
    """The id order of the rows is not the chain's order; read them in seq order instead."""



@dataclass(frozen=True, slots=True)
class Part:
    """A run of the journal in id order, read alone: entry ids in [`entries`) and posting ids
    in [`postings`) (None: no bound), and the (hash, seq) of the entry before the first."""

    entries: tuple[int | None, int | None] = (None, None)
    postings: tuple[int | None, int | None] = (None, None)
    start: tuple[str, int | None] = (GENESIS_HASH, None)


def id_range(column: str, bounds: tuple[int | None, int | None]) -> str:
    """A WHERE clause keeping `column` in [lo, hi) (None: no bound), or nothing at all."""
    lo, hi = bounds
    found = ([] if lo is None else [f"{column} >= {int(lo)}"]) + \
        ([] if hi is None else [f"{column} < {int(hi)}"])
    return f" WHERE {' AND '.join(found)}" if found else ""


def _entry_columns(dialect: str, alias: str = "") -> str:
    e = f"{alias}." if alias else ""
    occurred, created = _TEXT_DATES.get(dialect, ("{e}occurred_on", "{e}created_at"))
    return _ENTRY_COLUMNS.format(e=e, occurred_on=occurred.format(e=e),
                                 created_at=created.format(e=e))


def _cursor(raw: Any, dialect: str, name: str) -> Any:
    # PostgreSQL: a server-side cursor, so rows arrive batch by batch instead of all at once,
    # in binary (the same Python values, made with less work on both ends).
    return raw.cursor(name=name, binary=True) if dialect == "postgresql" else raw.cursor()


def _rows(cursor: Any, batch: int) -> Iterator[Any]:
    # Row by row over batches, iterated in C.
    return chain.from_iterable(iter(partial(cursor.fetchmany, batch), []))


def _by_id(raw: Any, dialect: str, batch: int, part: Part = Part()) -> Iterator[list[Group]]:
    """Entries and their postings merged from two id-ordered cursors, a batch of entries at
    a time; raises `OutOfOrder` as soon as the ids disagree with the chain."""
    entries = _cursor(raw, dialect, "fsf_scan_entries")
    postings = _cursor(raw, dialect, "fsf_scan_postings")
    try:
        entries.execute(f"SELECT {_entry_columns(dialect)} FROM journal_entry"
                        f"{id_range('id', part.entries)} ORDER BY id")
        postings.execute(f"SELECT {_POSTING_COLUMNS.format(p='')} FROM posting"
                         f"{id_range('id', part.postings)} ORDER BY id")
        # Postings cut into runs of one entry id in C; each run must be the next entry's.
        runs = groupby(_rows(postings, batch), _ENTRY_ID)
        key, run = next(runs, _NO_RUN)
        last_seq = part.start[1]
        while rows := entries.fetchmany(batch):
            seqs = list(map(_SEQ, rows))
            if seqs != sorted(set(seqs)) or (last_seq is not None and not seqs[0] > last_seq):
                raise OutOfOrder  # seq must rise with id
            last_seq = seqs[-1]
            out = []
            for row in rows:
                eid = row[0]
                if key == eid:
                    out.append((row, list(run)))
                    key, run = next(runs, _NO_RUN)
                else:
                    out.append((row, []))
                if key is not None and key <= eid:
                    raise OutOfOrder
            yield out
        if key is not None:
            raise OutOfOrder
    finally:
        _close(entries, postings)


def _close(*cursors: Any) -> None:
    """Close a scan's cursors. A scan cut short (Ctrl+C) is closed when its generator is
    collected, after its connection may be: there is nothing left to close then."""
    for cursor in cursors:
        with suppress(sqlite3.ProgrammingError):
            cursor.close()


def _by_seq(raw: Any, dialect: str, batch: int) -> Iterator[list[Group]]:
    """Entries joined to their postings in (seq, posting id) order, one entry a batch."""
    cursor = _cursor(raw, dialect, "fsf_scan_joined")
    try:
        cursor.execute(
            f"SELECT {_entry_columns(dialect, 'e')}, {_POSTING_COLUMNS.format(p='p.')} "
            "FROM journal_entry e LEFT JOIN posting p ON p.entry_id = e.id ORDER BY e.seq, p.id")
        for _, joined in groupby(_rows(cursor, batch), _ENTRY_ID):
            rows = list(joined)
            yield [(tuple(rows[0][:11]), [tuple(r[11:]) for r in rows if r[11] is not None])]
    finally:
        _close(cursor)


def _reference_hash_ok(session: Session, entry_id: int, prev_hash: str) -> bool:
    """Whether the entry's stored hash is right, checked through `EntryContent` from typed
    rows: the path for values the fast text cannot take (odd stored forms, NULLs)."""
    je, post, acct = core_table("journal_entry"), core_table("posting"), core_table("account")
    rev = je.alias("reversed_entry")
    try:
        head = session.execute(
            sa.select(je.c.seq, je.c.kind, je.c.occurred_on, je.c.memo, je.c.created_by,
                      je.c.created_at, je.c.loan_id, rev.c.seq, je.c.hash)
            .outerjoin(rev, rev.c.id == je.c.reverses_id).where(je.c.id == entry_id)).one()
        postings = session.execute(
            sa.select(acct.c.code, post.c.currency, post.c.amount_minor, post.c.loan_id,
                      post.c.component)
            .outerjoin(acct, acct.c.id == post.c.account_id).where(post.c.entry_id == entry_id)
        ).all()
        content = EntryContent(
            seq=int(head[0]), kind=str(head[1]), occurred_on=head[2], memo=str(head[3]),
            created_by=str(head[4]), created_at=head[5], loan_id=head[6], reverses_seq=head[7],
            postings=tuple(PostingContent(str(p[0]), str(p[1]), int(p[2]), p[3], p[4])
                           for p in postings))
        return bool(entry_hash(prev_hash, content) == head[8])
    except (TypeError, ValueError, AttributeError, sa.exc.SQLAlchemyError):
        return False


def _stray_posting(raw: Any) -> tuple[int, int] | None:
    cursor = raw.cursor()
    try:
        cursor.execute("SELECT p.id, p.entry_id FROM posting p WHERE NOT EXISTS "
                       "(SELECT 1 FROM journal_entry e WHERE e.id = p.entry_id) ORDER BY p.id")
        found = cursor.fetchone()
    finally:
        _close(cursor)
    return None if found is None else (int(found[0]), int(found[1]))


def scan(session: Session, keep: frozenset[str], first_of: frozenset[str],
         batch: int, sink: Callable[[], Callable[[FirstPosting], object]] | None = None,
         part: Part | None = None) -> JournalScan:
    """See `ledger.chain.scan_journal`. `sink()`, when given, is called before each pass
    (the id-ordered one may give way to the seq-ordered one part way) and returns where that
    pass sends the first postings (`walk`'s `sink`). With a `part`, only that run of the
    journal is read, in id order, and `OutOfOrder` is raised where the whole would need the
    seq-ordered pass."""
    connection = session.connection()
    dialect = connection.dialect.name
    raw = connection.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        cursor.execute("SELECT id, code, currency FROM account")
        # Ids are positive (the app never makes another); the sums pack them into int keys.
        accounts = {int(i): (str(code), str(cur)) for i, code, cur in cursor.fetchall()
                    if int(i) > 0}
        # Only reversals name another entry; a dangling name hashes as null, as a join would.
        cursor.execute("SELECT e.id, r.seq FROM journal_entry e LEFT JOIN journal_entry r "
                       "ON r.id = e.reverses_id WHERE e.reverses_id IS NOT NULL")
        reversed_seq = {int(i): (None if s is None else int(s)) for i, s in cursor.fetchall()}
    finally:
        _close(cursor)

    def reference(entry_id: int, prev_hash: str) -> bool:
        return _reference_hash_ok(session, entry_id, prev_hash)

    if part is not None:
        return walk(_by_id(raw, dialect, batch, part), keep, first_of, accounts, reversed_seq,
                    reference, None if sink is None else sink(), part.start)
    try:
        return walk(_by_id(raw, dialect, batch), keep, first_of, accounts, reversed_seq,
                    reference, None if sink is None else sink())
    except OutOfOrder:
        pass
    result = walk(_by_seq(raw, dialect, batch), keep, first_of, accounts, reversed_seq,
                  reference, None if sink is None else sink())
    stray = _stray_posting(raw)
    if stray is None or result.chain.broken is not None:
        return result
    posting_id, entry_id = stray
    broken = BrokenEntry(0, entry_id, f"posting id {posting_id} belongs to entry id {entry_id}, "
                                      "which is not in the journal (removed outside the app)")
    chain = result.chain
    return JournalScan(ChainReport(chain.entries, chain.last_seq, chain.last_hash, broken),
                       result.sums, result.kept, result.firsts, result.days)
