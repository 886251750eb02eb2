"""Repayments per second: the bulk path (`ledger.services.bulk.post_repayments`) against
`record_repayment` one at a time, and the whole `fsf import repayments` pipeline from a CSV.

    python -m bench.import_repayments [--payments 100000] [--single 1000] [--db URL]

Builds its own ledger (loans of 12 monthly installments, every one paid on its due date),
re-measures both baselines in the same run, checks `verify_ledger` after the bulk import, and
prints one line per measurement.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.actor import SYSTEM
from ledger.allocation import Payment, Replay
from ledger.db import make_engine, upgrade
from ledger.db.places import load_gazetteer_province
from ledger.db.tables import LoanProduct, Village, core_table
from ledger.money import Money
from ledger.services.bulk import NewRepayment, post_repayments, replay_inputs
from ledger.services.families import FamilyInput, register_family
from ledger.services.funds import open_fund, receive_capital
from ledger.services.loans import apply_for_loan, approve_loan, disburse_loan
from ledger.services.products import create_product
from ledger.services.repayments import record_repayment
from ledger.services.unit import use_case
from ledger.verify import verify_ledger

TODAY = date(2012, 12, 31)
# Installments per loan: the Foundation's loans have 6-12 monthly ones.
INSTALLMENTS = 12
PRODUCT = LoanProduct(
    code="BENCH", name="Bench loan", currency="KHR", min_principal_minor=10_000,
    max_principal_minor=1_000_000, rate=Decimal(1), rate_period="month",
    method="declining", amortization="equal-installments", min_repayments=1,
    max_repayments=60, allowed_units="month,week", allowed_every="1", multiple_minor=100)


def build(session: Session, loans: int, installments: int = INSTALLMENTS) -> list[int]:
    """A ledger with `loans` weekly loans paid out, returning their ids."""
    load_gazetteer_province(session, "Svay Rieng")
    session.commit()
    village = int(session.execute(sa.select(Village.id).limit(1)).scalar_one())  # type: ignore[call-overload]
    ids = []
    with use_case(session):
        open_fund(session, actor=SYSTEM, code="RIEL", name="Riel loan fund")
        receive_capital(session, actor=SYSTEM, fund_code="RIEL", ref="C1", contributor="IOM",
                        amount=Money.parse(loans * 200_000, "KHR"), received_on=date(2009, 1, 1))
        create_product(session, actor=SYSTEM,
                       product=LoanProduct.model_validate(PRODUCT.model_dump()))
        for n in range(loans):
            fam = register_family(session, actor=SYSTEM, today=TODAY, confirm_duplicate=True,
                                  data=FamilyInput(ref=f"F{n}", head_name=f"Family {n}", sex="F",
                                                   household_size=4, village_id=village,
                                                   registered_on=date(2009, 1, 2)))
            on = date(2009, 2, 1) + timedelta(days=n % 300)
            loan = apply_for_loan(session, actor=SYSTEM, ref=f"L{n}", family_id=fam.id or 0,
                                  product_code="BENCH", fund_code="RIEL",
                                  principal=Money.parse(100_000 + 100 * (n % 50), "KHR"),
                                  repayments=installments, applied_on=on, today=TODAY)
            assert loan.id is not None
            approve_loan(session, actor=SYSTEM, loan_id=loan.id, on=on, today=TODAY)
            disburse_loan(session, actor=SYSTEM, loan_id=loan.id, on=on, today=TODAY)
            ids.append(loan.id)
    return ids


def payments(session: Session, loan_ids: list[int], count: int) -> list[NewRepayment]:
    """Every installment of the loans, paid on its due date, in loan order."""
    ls, si = core_table("loan_schedule"), core_table("schedule_installment")
    rows = session.execute(
        sa.select(ls.c.loan_id, si.c.number, si.c.due_date,
                  si.c.principal_minor + si.c.interest_minor)
        .join(si, si.c.schedule_id == ls.c.id).where(ls.c.loan_id.in_(loan_ids))
        .order_by(ls.c.loan_id, si.c.number)).all()
    return [NewRepayment(int(lid), due, Money.from_minor(int(total), "KHR"), f"P{lid}-{num}")
            for lid, num, due, total in rows[:count]]


def _ledger(folder: Path, name: str, payments: int, url: str | None = None
            ) -> tuple[sa.Engine, list[int]]:
    engine = make_engine(url or f"sqlite:///{folder / name}")
    upgrade(engine)
    with Session(engine, expire_on_commit=False) as session:
        return engine, build(session, -(-payments // INSTALLMENTS))


def replay_only(session: Session, plan: list[NewRepayment]) -> float:
    """Seconds the pure replay of the plan takes by itself, as the bulk path runs it
    (`ledger.allocation.Replay`, fed each loan's payments in order)."""
    by_loan: dict[int, list[Payment]] = {}
    for n, p in enumerate(sorted(plan, key=lambda p: p.paid_on)):
        by_loan.setdefault(p.loan_id, []).append(Payment(n, p.paid_on, p.amount.amount))
    inputs = replay_inputs(session, list(by_loan))
    session.rollback()
    started = time.perf_counter()
    for loan_id, pays in by_loan.items():
        replay = Replay(inputs[loan_id][0])
        for payment in pays:
            replay.split(payment)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=100_000)
    parser.add_argument("--single", type=int, default=1_000)
    parser.add_argument("--db", help="a fresh database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        engine, ids = _ledger(folder, "bulk.sqlite", args.payments, args.db)
        print(f"setup: {len(ids)} loans of {INSTALLMENTS} monthly installments through the "
              f"services in {time.perf_counter() - started:.1f} s")
        with Session(engine, expire_on_commit=False) as session:
            plan = payments(session, ids, args.payments)
            replay = replay_only(session, plan)
            started = time.perf_counter()
            post_repayments(session, actor=SYSTEM, payments=plan, today=TODAY)
            took = time.perf_counter() - started
            print(f"bulk path: {len(plan)} repayments in {took:.2f} s = "
                  f"{len(plan) / took:,.0f} repayments/s ({engine.dialect.name}); of which the "
                  f"pure replay (Replay) {replay:.2f} s, the rest "
                  f"{len(plan) / max(took - replay, 1e-9):,.0f} repayments/s")
            started = time.perf_counter()
            report = verify_ledger(session)
            print(f"verify after bulk: {'ok' if report.ok else report.first_failure} "
                  f"({report.entries} entries, {time.perf_counter() - started:.1f} s)")
        engine.dispose()
        if args.db is None:
            engine, ids = _ledger(folder, "single.sqlite", args.single)
            with Session(engine, expire_on_commit=False) as session:
                plan = payments(session, ids, args.single)
                started = time.perf_counter()
                with use_case(session):
                    for p in sorted(plan, key=lambda p: p.paid_on):
                        record_repayment(session, actor=SYSTEM, loan_id=p.loan_id,
                                         amount=p.amount, paid_on=p.paid_on, today=TODAY,
                                         ref=p.ref)
                took = time.perf_counter() - started
                print(f"one by one (record_repayment, one transaction): {len(plan)} repayments "
                      f"in {took:.2f} s = {len(plan) / took:,.0f} repayments/s")
            engine.dispose()
            pipeline(folder, min(args.payments, 20_000))


def pipeline(folder: Path, count: int) -> None:
    """`validate` + `commit` of a repayments CSV: reading, checking and posting together."""
    from imports import commit, validate

    engine, ids = _ledger(folder, "pipeline.sqlite", count)
    with Session(engine, expire_on_commit=False) as session:
        plan = payments(session, ids, count)
        refs = dict(session.execute(sa.select(core_table("loan").c.id,
                                              core_table("loan").c.ref)).all())
        path = folder / "repayments.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(["payment_ref", "loan_ref", "paid_on", "amount"])
            out.writerows([p.ref, refs[p.loan_id], p.paid_on.isoformat(), p.amount.plain()]
                          for p in plan)
        started = time.perf_counter()
        preview = validate("repayments", path, session=session, actor=SYSTEM, today=TODAY)
        checked = time.perf_counter() - started
        result = commit(preview, session=session, actor=SYSTEM)
        took = time.perf_counter() - started
        assert result.committed, result.problems[:3]
        print(f"fsf import pipeline (CSV): {count} repayments validated in {checked:.2f} s, "
              f"committed in {took - checked:.2f} s = {count / took:,.0f} repayments/s overall")
    engine.dispose()


if __name__ == "__main__":
    main()
