"""Hash-chained journal writing for bulk paths: ids reserved up front, entries and postings
chained in Python in order and written with Core executemany (see `ledger.services.bulk`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.chain import EntryContent, PostingContent, entry_hash
from ledger.db.tables import GENESIS_HASH, core_table
from ledger.journal import lock_chain
from ledger.services.errors import ServiceError

__all__ = ["CHUNK", "ChainWriter", "reserve_ids"]

# Rows written per executemany round; bounds memory at any batch size.
CHUNK = 5_000


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
        self.entries: list[dict[str, Any]] = []
        self.postings: list[dict[str, Any]] = []

    def add(self, *, entry_id: int, kind: str, occurred_on: date, memo: str, by: str,
            at: datetime, loan_id: int | None, currency: str,
            lines: list[tuple[int, str, int, int | None, str | None]]) -> None:
        """Queue one balanced entry; `lines` are (account id, account code, signed minor
        units, loan id, component) in posting order."""
        if sum(line[2] for line in lines) != 0 or any(line[2] == 0 for line in lines):
            raise ServiceError(f"entry for loan {loan_id} on {occurred_on} does not balance")
        self.seq += 1
        content = EntryContent(
            seq=self.seq, kind=kind, occurred_on=occurred_on, memo=memo, created_by=by,
            created_at=at, loan_id=loan_id, reverses_seq=None,
            postings=tuple(PostingContent(code, currency, amount, lid, component)
                           for _, code, amount, lid, component in lines))
        digest = entry_hash(self.prev, content)
        self.entries.append({
            "id": entry_id, "seq": self.seq, "kind": kind, "occurred_on": occurred_on,
            "memo": memo, "created_by": by, "created_at": at, "reverses_id": None,
            "loan_id": loan_id, "prev_hash": self.prev, "hash": digest})
        self.postings.extend(
            {"entry_id": entry_id, "account_id": acct, "currency": currency,
             "amount_minor": amount, "loan_id": lid, "component": component}
            for acct, _, amount, lid, component in lines)
        self.prev = digest

    def write(self) -> None:
        """Insert the queued entries, then their postings."""
        if self.entries:
            self.session.execute(core_table("journal_entry").insert(), self.entries)
            self.session.execute(core_table("posting").insert(), self.postings)
        self.entries, self.postings = [], []
