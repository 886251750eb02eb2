"""The sums of a loan's standing payments that bulk posting and the repayment import make read
the repayment index alone (migration 0009 put the currency in it), on both databases: the
plan each database makes for the real query names the index as covering, or as an index-only
scan, so a schema that drops a column from the index fails here."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from ledger.db import make_engine
from ledger.services.bulk_inputs import booked_sql, standing_sql
from ledger.services.driver import pg_array
from ledger.services.import_checks import reversed_paid_sql, standing_paid_sql

INDEX = "ix_repayment_loan_paid_amount_currency"


def _plan(session: Session, sql: str, keys: list[int] | list[str]) -> str:
    """The plan of `sql` with its key test filled in for `keys`, as one text."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        filled = sql.format(values=f"IN ({', '.join('?' * len(keys))})")
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {filled}", tuple(keys)).all()
        return "\n".join(str(row[-1]) for row in rows)
    # The test ledger is tiny, so PostgreSQL would read it whole; with table scans priced
    # out it shows which index plan the query can have.
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    connection.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
    # The key test as `driver_rows` writes it: one array literal of the keys.
    literal, kind = pg_array(keys)
    filled = sql.format(values=f"= ANY(%s::{kind})")
    return "\n".join(str(row[0]) for row in
                     connection.exec_driver_sql(f"EXPLAIN {filled}", (literal,)))


def _reads_index_only(session: Session, plan: str) -> bool:
    if session.get_bind().dialect.name == "sqlite":
        return f"USING COVERING INDEX {INDEX}" in plan
    return f"Index Only Scan using {INDEX}" in plan


@pytest.mark.parametrize(("key", "keys"), [
    (None, [1, 2, 3]),
    ("id", [1, 2, 3]),
    ("ref", ["L1", "L2"]),
], ids=["bulk standing totals", "import standing paid by id", "import standing paid by ref"])
def test_standing_payments_are_read_from_the_index_alone(session: Session, key: str | None,
                                                         keys: list[int] | list[str]) -> None:
    dialect = session.get_bind().dialect.name
    sql = standing_sql(dialect) if key is None else standing_paid_sql(key, dialect)
    plan = _plan(session, sql, keys)
    assert _reads_index_only(session, plan), plan
    session.rollback()


@pytest.mark.parametrize("ordered", [False, True], ids=["totals", "each payment"])
def test_bulk_standing_payments_are_looked_up_loan_by_loan_on_postgresql(
        session: Session, ordered: bool) -> None:
    """On PostgreSQL bulk posting reads each loan's payments from the repayment index by the
    loan's id, whatever the statistics say: with the whole batch's ids tested against the
    index, a 1M ledger whose statistics lagged was scanned whole, 9 s a batch."""
    dialect = session.get_bind().dialect.name
    plan = _plan(session, standing_sql(dialect, ordered), [1, 2, 3])
    if dialect == "sqlite":
        assert f"USING COVERING INDEX {INDEX} (loan_id=?)" in plan, plan
    else:
        assert f"Index Only Scan using {INDEX} on repayment rp" in plan, plan
        assert "Index Cond: (loan_id = loan.id)" in plan, plan
        assert "Hash Join" not in plan and "Seq Scan on repayment " not in plan, plan
    session.rollback()


def test_a_files_standing_payments_keep_to_one_process_on_postgresql(pg_url: str) -> None:
    """By ref on PostgreSQL the loans are found through the ref's index and their payments
    read loan by loan, in one process even where parallel workers cost nothing: at a million
    loans each chunk of refs was a parallel scan of every loan on three processes, which took
    both cores from the import's other lookups."""
    engine = make_engine(pg_url)
    try:
        with Session(engine) as session:
            connection = session.connection()
            for setting in ("parallel_setup_cost", "parallel_tuple_cost",
                            "min_parallel_table_scan_size", "min_parallel_index_scan_size"):
                connection.exec_driver_sql(f"SET LOCAL {setting} = 0")
            plan = _plan(session, standing_paid_sql("ref", "postgresql"), ["L1", "L2"])
    finally:
        engine.dispose()
    assert "Index Scan using uq_loan_ref on loan" in plan, plan
    assert "Gather" not in plan and "Parallel" not in plan, plan
    assert f"Index Only Scan using {INDEX} on repayment rp" in plan, plan


def test_a_files_loans_are_found_by_their_ref_not_by_walking_every_loan(sqlite_url: str
                                                                        ) -> None:
    """With a chunk's 30,000 refs tested in the join, SQLite walked the whole loan table
    (a second a chunk at a million loans); the loans are now looked up through the ref's
    index. SQLite without ANALYZE plans the same for any table size, so a tiny ledger shows
    the plan a national one gets. (PostgreSQL prices the list by its statistics.)"""
    engine = make_engine(sqlite_url)
    try:
        with Session(engine) as session:
            plan = _plan(session, standing_paid_sql("ref"),
                         [f"L{n:07d}" for n in range(30_000)])
            assert "SCAN l" not in plan.splitlines() and "(ref=?)" in plan, plan
            assert _reads_index_only(session, plan), plan
    finally:
        engine.dispose()


@pytest.mark.parametrize("key", ["id", "ref"])
def test_reversed_payments_are_found_from_the_reversals(sqlite_url: str, key: str) -> None:
    """The reversed half of the import's standing sums starts from the reversal table, which
    is small, and reaches each payment and loan by its key: never a walk of the loans'
    repayments, which is what testing each of them for a reversal cost."""
    engine = make_engine(sqlite_url)
    keys: list[int] | list[str] = (list(range(30_000)) if key == "id"
                                   else [f"L{n:07d}" for n in range(30_000)])
    try:
        with Session(engine) as session:
            plan = _plan(session, reversed_paid_sql(key), keys).splitlines()
    finally:
        engine.dispose()
    assert plan[0].startswith("SCAN rr"), plan
    assert [line for line in plan[1:] if line.startswith("SCAN")] == [], plan
    assert any(line.startswith("SEARCH rp USING INTEGER PRIMARY KEY") for line in plan), plan


def test_booked_sums_read_the_posting_index_and_the_entries_by_kind(session: Session) -> None:
    """Bulk posting's booked sums (migration 0010): every component posting from the posting
    index alone, and the entries that book no repayment from the journal's loan-and-kind
    index; before, each posting's entry was visited for its kind. On PostgreSQL both go loan
    by loan, whatever the statistics say (a hash of the whole posting table is what they
    chose at 1M before ANALYZE)."""
    dialect = session.get_bind().dialect.name
    every, others = (_plan(session, sql, [1, 2, 3]) for sql in booked_sql(dialect))
    if dialect == "sqlite":
        assert "USING COVERING INDEX ix_posting_loan_component (loan_id=?" in every, every
        assert "journal_entry" not in every and " je" not in every, every
        assert "SEARCH je USING INDEX ix_journal_entry_loan_id_kind (loan_id=?)" in others
        # Each such entry's own postings, not every posting of its loan again.
        assert "SEARCH p USING INDEX ix_posting_entry_id (entry_id=?)" in others, others
    else:
        assert "Index Only Scan using ix_posting_loan_component on posting p" in every, every
        assert "using ix_journal_entry_loan_id_kind on journal_entry je" in others, others
        for plan in (every, others):
            assert "Hash Join" not in plan and "Seq Scan on posting" not in plan, plan
    session.rollback()
