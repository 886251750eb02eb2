"""`fsf verify` against one plain read of the journal: the same rows streamed with a bare
SELECT (entries joined to postings, in seq order) and nothing computed."""

from __future__ import annotations

import sys
from datetime import date

from sqlalchemy.orm import Session

from bench.timing import Row, interleaved_medians
from ledger import verify_parts
from ledger.chain import verify_chain
from ledger.verify import verify_ledger

__all__ = ["run"]

_PLAIN = """
SELECT e.id, e.seq, e.kind, e.occurred_on, e.memo, e.created_by, e.created_at, e.loan_id,
  e.prev_hash, e.hash, p.id, a.code, p.currency, p.amount_minor, p.loan_id, p.component
FROM journal_entry e LEFT JOIN posting p ON p.entry_id = e.id
  LEFT JOIN account a ON a.id = p.account_id
ORDER BY e.seq, p.id
"""


def plain_read(session: Session) -> None:
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    cur = raw.cursor()
    cur.execute(_PLAIN)
    while cur.fetchmany(2_000):
        pass
    session.rollback()


def run(session: Session, as_of: date, runs: int) -> list[Row]:
    """The whole verify, and the hash-chain part alone, against the plain read."""
    def ledger() -> None:
        report = verify_ledger(session)
        session.rollback()
        if not report.ok:
            raise AssertionError(f"the generated ledger does not verify: {report.checks}")

    def chain() -> None:
        verify_chain(session)
        session.rollback()

    def one_process() -> None:
        saved, verify_parts.PARALLEL_FROM = verify_parts.PARALLEL_FROM, sys.maxsize
        try:
            ledger()
        finally:
            verify_parts.PARALLEL_FROM = saved

    base, whole, alone, hashes = interleaved_medians(
        [lambda: plain_read(session), ledger, one_process, chain], runs)
    return [
        Row("verify", "fsf verify (every check)", whole, "plain SELECT of the journal", base,
            "≤ 2 × baseline", whole <= 2 * base),
        Row("verify", "… the same in one process (without `ledger.verify_parts`)", alone,
            "plain SELECT of the journal", base, "(informative)", None),
        Row("verify", "hash chain only (verify_chain)", hashes, "plain SELECT of the journal",
            base, "(informative)", None),
    ]
