"""Writing: one repayment through `record_repayment` against a bare insert and commit, and the
bulk path (`post_repayments`) on loans that already have payments against raw DB-API
`executemany` of the rows it writes (same loans, accounts and components, so the same index
work; what is left is the replay, the hash chain and the Python around them)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bench.timing import Row, percentile
from ledger.accounts import AccountRole, account_for
from ledger.actor import SYSTEM
from ledger.db.tables import core_table, utc_now
from ledger.money import KHR, Money
from ledger.services.bulk import NewRepayment, post_repayments
from ledger.services.repayments import record_repayment
from ledger.services.unit import use_case

__all__ = ["raw_rows", "rolled_back", "run"]

SINGLE_CALLS = 50
BULK_PAYMENTS = 5_000


class _Undo(Exception):
    """Raised at the end of a measured use case so that everything it wrote is rolled back."""


@contextmanager
def rolled_back(session: Session) -> Iterator[None]:
    """Run the block as one use case, then roll it back (the ledger is left as it was)."""
    try:
        with use_case(session):
            yield
            raise _Undo
    except _Undo:
        pass


def _active_loans(session: Session, count: int, as_of: date) -> list[int]:
    """The newest active loans that a payment on `as_of` may go to: on a ledger people have
    also used, a loan paid out after the generated ledger's day would refuse it."""
    ln = core_table("loan")
    return [int(i) for i in session.execute(
        sa.select(ln.c.id).where(ln.c.status == "active", ln.c.disbursed_on <= as_of)
        .order_by(ln.c.id.desc()).limit(count)).scalars()]


def _marker(session: Session) -> str:
    return "?" if session.get_bind().dialect.name == "sqlite" else "%s"


def _single(session: Session, as_of: date) -> list[Row]:
    loans = _active_loans(session, SINGLE_CALLS, as_of)
    service: list[float] = []
    for n, loan_id in enumerate(loans):
        started = time.perf_counter()
        record_repayment(session, actor=SYSTEM, loan_id=loan_id, paid_on=as_of, today=as_of,
                         amount=Money.from_minor(100, KHR), ref=f"BENCH-{n}")
        service.append(time.perf_counter() - started)
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    session.commit()
    m = _marker(session)
    bare: list[float] = []
    cur = raw.cursor()
    cur.execute("CREATE TABLE bench_scratch (id INTEGER PRIMARY KEY, loan_id INTEGER, "
                "paid_on DATE, amount_minor BIGINT, note TEXT)")
    raw.commit()
    for n, loan_id in enumerate(loans):
        started = time.perf_counter()
        cur.execute(f"INSERT INTO bench_scratch VALUES ({m}, {m}, {m}, {m}, {m})",
                    (n + 1, loan_id, as_of.isoformat(), 100, "x"))
        raw.commit()
        bare.append(time.perf_counter() - started)
    cur.execute("DROP TABLE bench_scratch")
    raw.commit()
    session.rollback()
    p95, b95 = percentile(service, 95), percentile(bare, 95)
    return [Row("writing", f"one repayment through the service, p95 of {len(service)} "
                f"(p50 {statistics.median(service) * 1000:.1f} ms)", p95,
                f"bare INSERT + COMMIT, p95 (p50 {statistics.median(bare) * 1000:.2f} ms)", b95,
                "≤ 10 ms p95", p95 <= 0.010)]


def raw_rows(session: Session, plan: list[NewRepayment]) -> None:
    """The rows the bulk path writes for `plan` (per payment an entry, a cash posting and two
    allocation postings, a repayment, on the payment's own loan and its fund's accounts, so
    the same index entries are made), inserted with the driver's own executemany; rolled back
    by the caller."""
    je, rp, ln = core_table("journal_entry"), core_table("repayment"), core_table("loan")
    top = int(session.execute(sa.select(sa.func.max(je.c.id))).scalar_one())
    seq = int(session.execute(sa.select(sa.func.max(je.c.seq))).scalar_one())
    rtop = int(session.execute(sa.select(sa.func.coalesce(sa.func.max(rp.c.id), 0))).scalar_one())
    funds: dict[int, int] = {int(i): int(f) for i, f in session.execute(
        sa.select(ln.c.id, ln.c.fund_id).where(ln.c.id.in_(sorted({p.loan_id for p in plan}))))}
    accounts: dict[int, tuple[int, int, int]] = {}
    for fund_id in set(funds.values()):
        ids = [account_for(session, role, fund_id=fund_id).id
               for role in (AccountRole.CASH, AccountRole.INTEREST_INCOME,
                            AccountRole.LOAN_PORTFOLIO)]
        accounts[fund_id] = (int(ids[0] or 0), int(ids[1] or 0), int(ids[2] or 0))
    at = utc_now().replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    entries, postings, repayments = [], [], []
    for k, p in enumerate(plan, start=1):
        cash, interest, portfolio = accounts[funds[p.loan_id]]
        day, minor = p.paid_on.isoformat(), p.amount.minor
        entries.append((top + k, seq + k, "repayment", day, f"Repayment on loan {p.loan_id}",
                        "bench", at, p.loan_id, "0" * 64, f"{k:064x}"))
        postings += [(top + k, cash, "KHR", minor, p.loan_id, None),
                     (top + k, interest, "KHR", -(minor // 2), p.loan_id, "interest"),
                     (top + k, portfolio, "KHR", minor // 2 - minor, p.loan_id, "principal")]
        repayments.append((rtop + k, None, p.loan_id, day, minor, "KHR", cash, "bench", "",
                           top + k, at))
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    m = _marker(session)
    cur = raw.cursor()
    cur.executemany("INSERT INTO journal_entry (id, seq, kind, occurred_on, memo, created_by, "
                    f"created_at, loan_id, prev_hash, hash) VALUES ({', '.join([m] * 10)})",
                    entries)
    cur.executemany("INSERT INTO posting (entry_id, account_id, currency, amount_minor, "
                    f"loan_id, component) VALUES ({', '.join([m] * 6)})", postings)
    cur.executemany("INSERT INTO repayment (id, ref, loan_id, paid_on, amount_minor, currency, "
                    "cash_account_id, received_by, note, entry_id, created_at) "
                    f"VALUES ({', '.join([m] * 11)})", repayments)


def _bulk(session: Session, as_of: date, runs: int) -> list[Row]:
    loans = _active_loans(session, BULK_PAYMENTS, as_of)
    plan = [NewRepayment(loan_id, as_of, Money.from_minor(100, KHR)) for loan_id in loans]
    session.rollback()
    bulk: list[float] = []
    raw: list[float] = []
    for _ in range(max(1, runs)):
        with rolled_back(session):
            started = time.perf_counter()
            post_repayments(session, actor=SYSTEM, payments=plan, today=as_of)
            bulk.append(time.perf_counter() - started)
        with rolled_back(session):
            started = time.perf_counter()
            raw_rows(session, plan)
            raw.append(time.perf_counter() - started)
    t, b = statistics.median(bulk), statistics.median(raw)
    rate = len(plan) / t if t else 0.0
    dialect = session.get_bind().dialect.name
    target = "≥ 20,000 repayments/s" if dialect == "sqlite" else "(no target on PostgreSQL)"
    return [Row("writing", f"bulk posting of {len(plan)} repayments on active loans "
                f"({rate:,.0f}/s)", t, "raw executemany of the same rows "
                f"({len(plan) / b:,.0f}/s)" if b else "raw executemany", b, target,
                rate >= 20_000 if dialect == "sqlite" else None)]


def run(session: Session, as_of: date, runs: int) -> list[Row]:
    """Single repayments (committed), then bulk posting (rolled back after each run); listed
    bulk first. The single ones go first because the bulk runs' rolled-back rows stay in
    PostgreSQL's tables and indexes as dead rows until a vacuum, and each repayment's reads
    stepped over them: p95 9.7-11.3 ms after the bulk runs against 6.1-7.8 ms before them,
    5.5-7.3 ms after a VACUUM (10,000 loans, three rounds). An office's ledger has such rows
    only after a refused bulk import, until autovacuum clears them."""
    from bench import backbook  # it builds on this module

    single = _single(session, as_of)
    rows: list[Any] = _bulk(session, as_of, runs)
    rows += backbook.run(session, as_of, runs)
    return rows + single
