"""A ledger exported to the import files and imported into an empty ledger gives the same
books: same balances per account, same loan states and arrears, and `verify` passes."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from imports import commit, validate
from ledger.arrears import arrears_as_of
from ledger.db import make_engine, upgrade
from ledger.db.tables import core_table
from ledger.journal import balances_by_account
from ledger.services.loan_book import get_loan, load_state
from ledger.services.repayments import payoff_quote, record_repayment
from ledger.verify import verify_ledger
from tests.import_support import empty_ledger, write_xlsx
from tests.support.world import ACTOR, TODAY, build_world, riel


def _source(session: Session) -> None:
    """Twelve families with loans and a realistic mix of payments, through the services."""
    world = build_world(session, families=12)
    rng = random.Random(5)
    for n, fam in enumerate(world.families):
        on = date(2008, 1, 3) + timedelta(days=11 * n)
        loan_id = world.loan(fam, principal=100_000 + 10_000 * (n % 10), repayments=6 + n % 6,
                             on=on, ref=f"L{n:02d}")
        due = on
        for k in range(rng.randint(2, 12)):
            due = due + timedelta(days=30 + rng.choice([-5, 0, 9, 40]))
            if due > TODAY:
                break
            owed = payoff_quote(session, actor=ACTOR, loan_id=loan_id, as_of=due).amount
            if owed == 0:
                break
            amount = min(owed, rng.choice([owed, 20_000, 17_000, 5_000]))
            record_repayment(session, actor=ACTOR, loan_id=loan_id, amount=riel(int(amount)),
                             paid_on=due, today=TODAY, ref=f"R{n:02d}-{k}")


def _export(session: Session, folder: Path) -> dict[str, Path]:
    fam, v, debt = core_table("family"), core_table("village"), core_table("informal_debt")
    loan, prod, rp = core_table("loan"), core_table("loan_product"), core_table("repayment")
    families = session.execute(
        sa.select(fam.c.ref, fam.c.head_name, fam.c.head_name_latin, fam.c.sex,
                  fam.c.birth_year, fam.c.household_size, fam.c.dependants, v.c.code,
                  v.c.name_en, fam.c.registered_on, debt.c.outstanding_minor)
        .join(v, v.c.id == fam.c.village_id).outerjoin(debt, debt.c.family_id == fam.c.id)
        .order_by(fam.c.id)).all()
    loans = session.execute(
        sa.select(loan.c.ref, fam.c.ref, prod.c.code, loan.c.principal_minor, loan.c.currency,
                  loan.c.repayments, loan.c.disbursed_on, loan.c.first_due_on)
        .join(fam, fam.c.id == loan.c.family_id).join(prod, prod.c.id == loan.c.product_id)
        .order_by(loan.c.id)).all()
    pays = session.execute(
        sa.select(rp.c.ref, loan.c.ref, rp.c.paid_on, rp.c.amount_minor, rp.c.currency)
        .join(loan, loan.c.id == rp.c.loan_id).order_by(rp.c.id)).all()
    return {
        "families": write_xlsx(folder / "families.xlsx", [
            "family_ref", "head_name", "head_name_latin", "sex", "birth_year",
            "household_size", "dependants", "village_code", "village_name", "registered_on",
            "informal_debt"], [list(r) for r in families], "families"),
        "loans": write_xlsx(folder / "loans.xlsx", [
            "loan_ref", "family_ref", "product", "principal", "currency", "repayments",
            "disbursed_on", "first_due_on"], [list(r) for r in loans], "loans"),
        "repayments": write_xlsx(folder / "repayments.xlsx", [
            "payment_ref", "loan_ref", "paid_on", "amount", "currency"],
            [list(r) for r in pays], "repayments"),
    }


def _books(session: Session) -> dict[str, Any]:
    acct = core_table("account")
    codes = dict(session.execute(sa.select(acct.c.id, acct.c.code)).all())
    loan = core_table("loan")
    states = {}
    for loan_id, ref in session.execute(sa.select(loan.c.id, loan.c.ref)).all():
        row = get_loan(session, loan_id)
        state = load_state(session, row)
        arrears = arrears_as_of(state, TODAY)
        states[ref] = (row.status, row.closed_on, state.outstanding, state.paid,
                       arrears.overdue, arrears.days_overdue, arrears.bucket)
    return {"balances": {codes[k]: v for k, v in balances_by_account(session).items()},
            "as_of": {codes[k]: v for k, v in balances_by_account(
                session, as_of=date(2008, 9, 30)).items()},
            "loans": states}


def test_export_import_round_trip(session: Session, tmp_path: Path) -> None:
    _source(session)
    files = _export(session, tmp_path)
    before = _books(session)
    engine = make_engine(f"sqlite:///{tmp_path / 'target.sqlite'}")
    upgrade(engine)
    with Session(engine, expire_on_commit=False) as target:
        empty_ledger(target)
        for kind in ("families", "loans", "repayments"):
            preview = validate(kind, files[kind], session=target, actor=ACTOR, today=TODAY)
            assert preview.valid, [str(p) for p in preview.problems][:5]
            assert commit(preview, session=target, actor=ACTOR).committed
        report = verify_ledger(target)
        assert report.ok, report.first_failure
        assert _books(target) == before
    engine.dispose()
