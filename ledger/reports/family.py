"""A family's statement: every loan, its installments (paid and outstanding as of the day) and
every money movement on it from the journal with the running principal balance — printable for
the family.

The lines are the journal's entries on the loan (disbursement, repayments, reversals,
reallocations, write-off, recoveries), so the balance column is the books' balance; the
installment table and the loan status come from the same SQL as every other report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.actor import Actor, Permission
from ledger.db.tables import core_table
from ledger.money import Money, get_currency
from ledger.reports.loans import LoanStatus, loan_status
from ledger.reports.positions import in_force, installments, paid_to_schedule
from ledger.reports.scope import clamp, loan_filters, money, village_filter
from ledger.services.errors import NotFound

__all__ = [
    "FamilyStatement",
    "InstallmentLine",
    "LoanStatement",
    "StatementLine",
    "family_id_for",
    "family_statement",
]


@dataclass(frozen=True, slots=True)
class InstallmentLine:
    """One installment of the schedule in force: what is due, what is paid, what is left."""

    number: int
    due_date: date
    principal: Money
    interest: Money
    fees: Money
    total: Money
    paid: Money
    outstanding: Money


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One journal entry on the loan. `cash`: money received from the family (+) or paid out
    to it (−); `principal`: the change in principal owed (+ lent, − repaid); `interest` and
    `fees`: what it paid of them; `balance`: the principal owed after it."""

    on: date
    seq: int
    kind: str
    cash: Money
    principal: Money
    interest: Money
    fees: Money
    balance: Money


@dataclass(frozen=True, slots=True)
class LoanStatement:
    """One loan of the family: its status, installments and journal lines."""

    status: LoanStatus
    installments: tuple[InstallmentLine, ...]
    lines: tuple[StatementLine, ...]


@dataclass(frozen=True, slots=True)
class FamilyStatement:
    """The family, its village and every loan disbursed by `as_of`."""

    family_id: int
    family_ref: str
    head_name: str
    head_name_latin: str | None
    village: str
    as_of: date
    loans: tuple[LoanStatement, ...]


def family_id_for(session: Session, ref: str) -> int:
    """The id of the family with this ref, or NotFound."""
    fam = core_table("family")
    found = session.execute(sa.select(fam.c.id).where(fam.c.ref == ref)).scalar()
    if found is None:
        raise NotFound(f"there is no family {ref!r} in this ledger", field="family")
    return int(found)


def _installments(session: Session, as_of: date, where: list[sa.ColumnElement[bool]]
                  ) -> dict[int, list[Any]]:
    f = in_force(as_of, where)
    paid = paid_to_schedule(as_of, f)
    inst = installments(f, paid, as_of)
    got = clamp(inst.c.pe - inst.c.cum + inst.c.tot, inst.c.tot)
    rows = session.execute(
        sa.select(inst, got.label("got")).order_by(inst.c.loan_id, inst.c.number)).all()
    out: dict[int, list[Any]] = {}
    for r in rows:
        out.setdefault(int(r.loan_id), []).append(r)
    return out


def _lines(session: Session, as_of: date, loan_ids: list[int]) -> dict[int, list[Any]]:
    je, post, acct = core_table("journal_entry"), core_table("posting"), core_table("account")

    def part(*roles: str) -> Any:
        return sa.func.sum(sa.case((acct.c.role.in_(roles), post.c.amount_minor), else_=0))

    rows = session.execute(
        sa.select(post.c.loan_id, je.c.occurred_on, je.c.seq, je.c.kind,
                  part("cash", "cash_box").label("cash"),
                  part("loan_portfolio").label("principal"),
                  part("interest_income").label("interest"),
                  part("fee_income", "penalty_income").label("fees"))
        .select_from(post.join(je, je.c.id == post.c.entry_id)
                     .join(acct, acct.c.id == post.c.account_id))
        .where(post.c.loan_id.in_(loan_ids), je.c.occurred_on <= as_of)
        .group_by(post.c.loan_id, je.c.occurred_on, je.c.seq, je.c.kind)
        .order_by(post.c.loan_id, je.c.occurred_on, je.c.seq)).all()
    out: dict[int, list[Any]] = {}
    for r in rows:
        out.setdefault(int(r.loan_id), []).append(r)
    return out


def family_statement(session: Session, *, actor: Actor, family_id: int,
                     as_of: date) -> FamilyStatement:
    """Every loan of the family disbursed by `as_of`, with installments and money lines."""
    actor.require(Permission.READ)
    fam, vil = core_table("family"), core_table("village")
    where = loan_filters(actor, family_id=family_id)
    visible = ([] if actor.villages is None
               else [village_filter(fam.c.village_id, actor.villages)])
    head = session.execute(
        sa.select(fam.c.ref, fam.c.head_name, fam.c.head_name_latin, vil.c.name_en)
        .select_from(fam.join(vil, vil.c.id == fam.c.village_id))
        .where(fam.c.id == family_id, *visible)).first()
    if head is None:
        raise NotFound(f"family id {family_id} is not in this ledger", field="family")
    ln = core_table("loan")
    loans = session.execute(
        sa.select(ln.c.id, ln.c.currency).where(ln.c.family_id == family_id,
                                                ln.c.disbursed_on <= as_of)
        .order_by(ln.c.disbursed_on, ln.c.id)).all()
    schedules = _installments(session, as_of, where)
    lines = _lines(session, as_of, [int(i) for i, _ in loans])
    out = []
    for loan_id, code in loans:
        cur = get_currency(code)
        status = loan_status(session, actor=actor, loan_id=int(loan_id), as_of=as_of)
        inst = tuple(InstallmentLine(
            int(r.number), r.due_date, money(r.p, cur), money(r.i, cur), money(r.pf, cur),
            money(r.tot, cur), money(r.got, cur), money(int(r.tot) - int(r.got), cur))
            for r in schedules.get(int(loan_id), []))
        balance = 0
        moves = []
        for r in lines.get(int(loan_id), []):
            balance += int(r.principal)
            moves.append(StatementLine(
                r.occurred_on, int(r.seq), r.kind, money(r.cash, cur), money(r.principal, cur),
                -money(r.interest, cur), -money(r.fees, cur), Money.from_minor(balance, cur)))
        out.append(LoanStatement(status, inst, tuple(moves)))
    return FamilyStatement(family_id, head.ref, head.head_name, head.head_name_latin,
                           head.name_en, as_of, tuple(out))
