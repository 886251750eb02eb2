"""Writing: bulk posting of a back-book, the repayments a province brings when it moves its
paper ledger in (many payments a loan, on loans with none posted yet), against raw DB-API
`executemany` of the same number of rows.

Each run writes up to `LOANS` new loans as the generator does (families, schedules, disbursements;
not timed), then times `post_repayments` of their repayments, and rolls everything back; the
baseline writes the same loans again and times the rows the bulk path writes for them
(`bench.posting.raw_rows`). The loans are new, so no standing payments are read: what is
timed is the replay of each loan's payments, the journal and its hash chain, and the writes.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bench.generate import FIRST_LOAN, FundFacts, disbursement_days, write_batch
from bench.posting import raw_rows, rolled_back
from bench.timing import Row
from ledger.actor import SYSTEM
from ledger.db.tables import core_table
from ledger.services.bulk import NewRepayment, post_repayments

__all__ = ["LOANS", "run"]

LOANS = 2_000  # at most; a fifth of a smaller ledger's loans (the smoke run's are few)
VILLAGES = 200
SEED = 1_000  # every run posts the same loans and payments


def _fund(session: Session, as_of: date) -> tuple[FundFacts, int]:
    """The generated ledger's fund, product and some villages; the number of loans it holds."""
    ln, fam = core_table("loan"), core_table("family")
    fund_id, product_id = session.execute(
        sa.select(ln.c.fund_id, ln.c.product_id).order_by(ln.c.id).limit(1)).one()
    villages = [int(v) for v in session.execute(
        sa.select(fam.c.village_id).distinct().limit(VILLAGES)).scalars()]
    loans = int(session.execute(sa.select(sa.func.count()).select_from(ln)).scalar_one())
    return FundFacts(int(fund_id), int(product_id), villages, as_of), loans


def _new_loans(session: Session, fund: FundFacts, first: int, count: int) -> list[NewRepayment]:
    """`count` loans numbered after the ledger's own, written in the open transaction."""
    rng = random.Random(SEED)
    days = disbursement_days(rng, count, (fund.as_of - FIRST_LOAN).days - 200)
    return write_batch(session, rng, days, first, count, fund)


def run(session: Session, as_of: date, runs: int) -> list[Row]:
    """Median of `runs` back-book postings and of their raw baseline, all rolled back."""
    fund, first = _fund(session, as_of)
    loans = max(10, min(LOANS, first // 5))
    session.rollback()
    bulk: list[float] = []
    raw: list[float] = []
    count = 0
    for _ in range(max(1, runs)):
        with rolled_back(session):
            plan = _new_loans(session, fund, first, loans)
            count = len(plan)
            started = time.perf_counter()
            post_repayments(session, actor=SYSTEM, payments=plan, today=as_of)
            bulk.append(time.perf_counter() - started)
        with rolled_back(session):
            plan = _new_loans(session, fund, first, loans)
            started = time.perf_counter()
            raw_rows(session, plan)
            raw.append(time.perf_counter() - started)
    t, b = statistics.median(bulk), statistics.median(raw)
    rate = count / t if t else 0.0
    sqlite = session.get_bind().dialect.name == "sqlite"
    return [Row("writing", f"bulk posting of a back-book: {count:,} repayments on {loans:,} "
                f"new loans ({rate:,.0f}/s)", t,
                f"raw executemany of the same rows ({count / b:,.0f}/s)" if b else
                "raw executemany", b,
                "≥ 20,000 repayments/s" if sqlite else "(no target on PostgreSQL)",
                rate >= 20_000 if sqlite else None)]
