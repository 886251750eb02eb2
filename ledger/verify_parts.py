"""`fsf verify`'s pass over the journal, in two processes when the journal is large.

The pass (`ledger.verify_scan`) is Python work for every posting, so a large journal is cut in
two by entry id: this process scans the first part while a forked one scans the second,
each with its own match of the repayment records (`ledger.verify_records`), and the two are
joined; in between, this process does work that needs no journal (`journal_pass`'s
`meanwhile`: verify replays the loan book). Each part is checked alone; the second starts from
the stored hash and seq of the entry before it, which is the first part's last entry whenever
the first part is whole. Where the
ids disagree with the chain's order, where the child fails, or where there is no `fork`, the
journal is read again in one pass in this process, which is always right: the parts only ever
make the same verdict sooner.

Both processes read one snapshot. On PostgreSQL the child takes this transaction's exported
snapshot; on SQLite another connection holds the write lock while both read transactions
begin, so nothing can commit between them.
"""

from __future__ import annotations

import gc
import multiprocessing
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from ledger import verify_scan
from ledger.chain import ChainReport, JournalScan
from ledger.db.engine import BEGIN_OPTION, make_engine
from ledger.verify_book import raw_connection
from ledger.verify_records import MatchState, RecordMatch
from ledger.verify_scan import OutOfOrder, Part

__all__ = ["PARALLEL_FROM", "journal_pass"]

# Entries (by id span) from which two processes beat one: below it, starting the second
# process costs more than it saves.
PARALLEL_FROM = 20_000
# This process's share of the journal's entry ids: it also replays the loan book while the
# child scans (measured at 10,000 loans, both databases: 0.35 beat 0.4 and 0.5).
FIRST_SHARE = 0.35
# How long the child may take to open its snapshot, and writers wait for it on SQLite.
_READY_SECONDS = 30.0
_READY = "ready"
_SNAPSHOT_ID = re.compile(r"^[0-9A-Fa-f-]+$")
T = TypeVar("T")


def journal_pass(session: Session, keep: frozenset[str], first_of: frozenset[str], batch: int,
                 owned: bool, meanwhile: Callable[[], T]) -> tuple[JournalScan, RecordMatch, T]:
    """The whole journal scanned with the repayment records matched on the way, and what
    `meanwhile()` gives, which reads on the session but not the journal. In two processes
    when the journal is large, the session's transaction is verify's own (`owned`, so a child
    can share its snapshot) and the platform can fork; `meanwhile` then runs while the child
    is still scanning."""
    made: list[T] = []

    def once() -> T:  # the parts may give way to one pass after `meanwhile` has run
        if not made:
            made.append(meanwhile())
        return made[0]

    if owned and _can_fork(session):
        found = _in_parts(session, keep, first_of, batch, once)
        if found is not None:
            return found
    match = RecordMatch(session, batch)
    try:
        scan = verify_scan.scan(session, keep, first_of, batch, match.restart)
        match.drain()
    finally:
        match.close()
    return scan, match, once()


def _can_fork(session: Session) -> bool:
    bind = session.get_bind()
    if not isinstance(bind, sa.Engine) or "fork" not in multiprocessing.get_all_start_methods():
        return False
    url = bind.url
    if url.get_backend_name() == "sqlite":
        return bool(url.database) and url.database != ":memory:" and "mode=memory" not in str(url)
    return url.get_backend_name() == "postgresql" and url.get_driver_name() == "psycopg"


def _one(session: Session, sql: str) -> Any:
    cursor = raw_connection(session).cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchone()
    finally:
        cursor.close()


def _plan(session: Session) -> tuple[Part, Part] | None:
    """The journal cut at `FIRST_SHARE` of its entry ids, or None when it is too small."""
    lo, hi = _one(session, "SELECT min(id), max(id) FROM journal_entry")
    if lo is None or int(hi) - int(lo) + 1 < PARALLEL_FROM:
        return None
    middle = int(lo) + int((int(hi) - int(lo) + 1) * FIRST_SHARE)
    (split,) = _one(session, f"SELECT id FROM journal_entry WHERE id >= {middle} ORDER BY id "
                             "LIMIT 1")
    before = _one(session, f"SELECT seq, hash FROM journal_entry WHERE id < {int(split)} "
                           "ORDER BY id DESC LIMIT 1")
    posting = _one(session, f"SELECT id FROM posting WHERE entry_id = {int(split)} ORDER BY id "
                            "LIMIT 1")
    if before is None or posting is None:
        return None
    entries, postings = int(split), int(posting[0])
    return (Part((None, entries), (None, postings)),
            Part((entries, None), (postings, None), (str(before[1]), int(before[0]))))


@contextmanager
def _writers_held(url: sa.URL) -> Iterator[None]:
    """SQLite: no one commits while this lasts (another connection holds the write lock)."""
    if url.get_backend_name() != "sqlite":
        yield
        return
    engine = make_engine(url.render_as_string(hide_password=False), poolclass=NullPool)
    try:
        with engine.connect() as locker:
            locker.begin()  # BEGIN IMMEDIATE
            try:
                yield
            finally:
                locker.rollback()
    finally:
        engine.dispose()


def _child(conn: Connection, url: str, snapshot: str | None, part: Part,
           keep: frozenset[str], first_of: frozenset[str], batch: int) -> None:
    """The forked process: open a snapshot like the parent's, say so, scan `part`, send what
    it found (or why not). Uses nothing of the parent's connections."""
    gc.disable()
    try:
        engine = make_engine(url, poolclass=NullPool)
        with Session(engine) as session:
            if snapshot is None:
                session.connection(execution_options={BEGIN_OPTION: "DEFERRED"})
                session.execute(sa.text("SELECT 1 FROM journal_entry LIMIT 1")).all()
            else:
                session.connection(execution_options={"isolation_level": "REPEATABLE READ",
                                                      "postgresql_readonly": True})
                session.execute(sa.text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
            conn.send(_READY)
            match = RecordMatch(session, batch, part.entries)
            try:
                scan = verify_scan.scan(session, keep, first_of, batch, match.restart, part)
                conn.send(("scanned", scan, match.state()))
            finally:
                match.close()
    except OutOfOrder:
        conn.send(("out of order",))
    except BaseException as exc:  # the parent reads the journal again itself
        conn.send(("failed", repr(exc)))
    finally:
        conn.close()


class _Second:
    """The child scanning the second part, and the pipe its findings come back through."""

    def __init__(self, url: sa.URL, snapshot: str | None, part: Part, keep: frozenset[str],
                 first_of: frozenset[str], batch: int) -> None:
        context = multiprocessing.get_context("fork")
        self.conn, theirs = context.Pipe(duplex=False)
        self.process = context.Process(
            target=_child, daemon=True,
            args=(theirs, url.render_as_string(hide_password=False), snapshot, part, keep,
                  first_of, batch))
        self.process.start()
        theirs.close()
        self.done = False

    def ready(self) -> bool:
        """Whether the child has its snapshot open (it says so, or fails, or times out)."""
        try:
            return bool(self.conn.poll(_READY_SECONDS) and self.conn.recv() == _READY)
        except (EOFError, OSError):
            return False

    def found(self) -> tuple[JournalScan, MatchState] | None:
        """The child's scan and match, or None when it could not make them."""
        try:
            sent = self.conn.recv()
        except (EOFError, OSError):
            return None
        self.done = True
        return (sent[1], sent[2]) if sent[0] == "scanned" else None

    def stop(self) -> None:
        """End the child if its findings are no longer wanted, wait for it, close the pipe."""
        if not self.done:
            self.process.terminate()
        self.process.join()
        self.conn.close()


def _start(session: Session, keep: frozenset[str], first_of: frozenset[str], batch: int
           ) -> tuple[Part, _Second] | None:
    """This process's part, and the child with its snapshot open on the other; None when the
    journal is too small to cut, or the child or (SQLite) the write lock cannot be had."""
    bind = session.get_bind()
    assert isinstance(bind, sa.Engine)
    try:
        with _writers_held(bind.url):
            parts = _plan(session)  # this process's snapshot begins here
            if parts is None:
                return None
            snapshot = None
            if bind.dialect.name == "postgresql":
                (snapshot,) = _one(session, "SELECT pg_export_snapshot()")
                if not _SNAPSHOT_ID.match(str(snapshot)):
                    return None
            second = _Second(bind.url, snapshot, parts[1], keep, first_of, batch)
            if not second.ready():
                second.stop()
                return None
            return parts[0], second
    except sa.exc.OperationalError:  # a writer kept the lock past the busy timeout
        return None


def _in_parts(session: Session, keep: frozenset[str], first_of: frozenset[str], batch: int,
              meanwhile: Callable[[], T]) -> tuple[JournalScan, RecordMatch, T] | None:
    started = _start(session, keep, first_of, batch)
    if started is None:
        return None
    part, second = started
    match = RecordMatch(session, batch, part.entries)
    try:
        mine = verify_scan.scan(session, keep, first_of, batch, match.restart, part)
        match.drain()  # its rows are read before the session reads anything else
        beside = meanwhile()
        theirs = second.found()
        if theirs is None:
            return None
        return _join(mine, match, *theirs), match, beside
    except OutOfOrder:
        return None
    finally:
        match.close()
        second.stop()


def _join(first: JournalScan, match: RecordMatch, second: JournalScan, state: MatchState
          ) -> JournalScan:
    """The two parts as one scan of the whole journal (`match` takes in the second's)."""
    a, b = first.chain, second.chain
    chain = a if a.broken is not None else ChainReport(a.entries + b.entries, b.last_seq,
                                                       b.last_hash, b.broken)
    sums = dict(first.sums)
    for key, amount in second.sums.items():
        sums[key] = sums.get(key, 0) + amount
    days = dict(first.days)
    for day, weighed in second.days.items():
        days[day] = days.get(day, 0) + weighed
    match.absorb(state)
    return JournalScan(chain, sums, {**first.kept, **second.kept},
                       sorted(first.firsts + second.firsts), days)
