"""One loan's status as of a day, and the loan register (one row per disbursed loan) auditors
take away as Excel."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.actor import Actor, Permission
from ledger.db.tables import core_table
from ledger.money import Money, get_currency
from ledger.reports.ageing import LoanStatusLabel, bucket_of, days_overdue, status_label
from ledger.reports.positions import BIG, positions
from ledger.reports.scope import loan_filters, minor, money, scope_filters
from ledger.services.errors import NotFound

__all__ = ["LoanRow", "LoanStatus", "loan_id_for", "loan_register", "loan_register_rows",
           "loan_status"]

REGISTER_BATCH = 2_000  # register rows read at a time by `loan_register_rows`


@dataclass(frozen=True, slots=True)
class LoanRow:
    """One disbursed loan on the register: who, where, its terms and its position."""

    loan_id: int
    ref: str
    family_id: int
    family_ref: str
    family_name: str
    family_name_latin: str | None
    village_code: str | None
    village_name: str
    currency: str
    principal: Money
    rate: Decimal
    rate_period: str
    method: str
    repayments: int
    every: int
    unit: str
    disbursed_on: date
    outstanding_principal: Money
    interest_due: Money
    overdue: Money
    days_overdue: int
    bucket: str
    status: LoanStatusLabel


@dataclass(frozen=True, slots=True)
class LoanStatus:
    """A loan's position at the end of `as_of` (zeros and "not_disbursed" before it was paid
    out). `oldest_due` is the due date of the oldest unpaid installment; the payoff is what
    closes the loan that day."""

    loan_id: int
    ref: str
    family_ref: str
    as_of: date
    currency: str
    principal: Money
    disbursed_on: date | None
    status: LoanStatusLabel
    outstanding_principal: Money
    interest_due: Money
    overdue: Money
    days_overdue: int
    oldest_due: date | None
    bucket: str
    next_due_date: date | None
    next_due_amount: Money
    payoff: Money


def _described(as_of: date, where: list[sa.ColumnElement[bool]], detail: bool) -> sa.Select[Any]:
    pos = positions(as_of, where, detail=detail)
    ln, fam, vil = core_table("loan"), core_table("family"), core_table("village")
    return (
        sa.select(pos, ln.c.ref, ln.c.currency, ln.c.rate, ln.c.rate_period, ln.c.method,
                  ln.c.repayments, ln.c.every, ln.c.unit, fam.c.ref.label("family_ref"),
                  fam.c.head_name, fam.c.head_name_latin, vil.c.code.label("village_code"),
                  vil.c.name_en.label("village_name"))
        .select_from(pos.join(ln, ln.c.id == pos.c.loan_id)
                     .join(fam, fam.c.id == pos.c.family_id)
                     .join(vil, vil.c.id == pos.c.village_id))
    )


def loan_id_for(session: Session, ref: str) -> int:
    """The id of the loan with this ref, or NotFound."""
    ln = core_table("loan")
    found = session.execute(sa.select(ln.c.id).where(ln.c.ref == ref)).scalar()
    if found is None:
        raise NotFound(f"there is no loan {ref!r} in this ledger", field="loan")
    return int(found)


def _status(row: Any, as_of: date) -> LoanStatusLabel:
    return status_label(as_of=as_of, disbursed_on=row.disbursed_on, closed_on=row.closed_on,
                        written_off_on=row.written_off_on, version=int(row.version))


def loan_register(session: Session, *, actor: Actor, as_of: date,
                  currency: str | None = None) -> tuple[LoanRow, ...]:
    """Every loan disbursed by `as_of` (that `actor` may see), ordered by ref, with its terms,
    position, ageing bucket and status."""
    return tuple(loan_register_rows(session, actor=actor, as_of=as_of, currency=currency))


def loan_register_rows(session: Session, *, actor: Actor, as_of: date,
                       currency: str | None = None) -> Iterator[LoanRow]:
    """`loan_register` a row at a time, read `REGISTER_BATCH` rows at a time: a national
    register, a million loans, is written out without being held whole (2.6 GB)."""
    actor.require(Permission.READ)
    query = _described(as_of, loan_filters(actor, currency=currency), detail=False)
    rows = session.execute(query.order_by(core_table("loan").c.ref),
                           execution_options={"yield_per": REGISTER_BATCH})
    return (_register_row(r, as_of) for r in rows)


def _register_row(r: Any, as_of: date) -> LoanRow:
    cur = get_currency(r.currency)
    return LoanRow(
        loan_id=int(r.loan_id), ref=r.ref, family_id=int(r.family_id), family_ref=r.family_ref,
        family_name=r.head_name, family_name_latin=r.head_name_latin,
        village_code=r.village_code, village_name=r.village_name, currency=cur.code,
        principal=money(r.principal_minor, cur), rate=Decimal(str(r.rate)),
        rate_period=r.rate_period, method=r.method, repayments=int(r.repayments),
        every=int(r.every), unit=r.unit, disbursed_on=r.disbursed_on,
        outstanding_principal=money(r.outstanding_principal, cur),
        interest_due=money(r.interest_due, cur), overdue=money(r.overdue, cur),
        days_overdue=days_overdue(r.oldest_due, as_of),
        bucket=bucket_of(r.oldest_due, as_of).value, status=_status(r, as_of))


def _payoff(r: Any) -> int:
    """What closes the loan on the day (Fineract's rule, `ledger.allocation.payoff_claim`):
    everything owed on installments due by then, only principal of later ones, except the
    interest of the one whose period contains the day when none falls due on it."""
    base = minor(r.payoff_base)
    if minor(r.has_today) or r.after_ci is None:
        return base
    paid = minor(r.paid) + (BIG if r.closed_on is not None and r.closed_on <= r.as_of else 0)
    interest = minor(r.after_ci) - minor(r.after_ci0)
    before = minor(r.after_before) + minor(r.after_cpf) - minor(r.after_cpf0)
    return base + interest - min(max(paid - before, 0), interest)


@lru_cache(maxsize=16)
def _status_query(as_of: date, villages: frozenset[str] | None) -> sa.Select[Any]:
    """`positions` of one loan (bound as `status_loan`) that a person seeing `villages` may
    see. Building the statement took most of a loan page's time (the query itself about a
    tenth), and a day's pages differ only in the loan: it is built once per day and scope."""
    where = [core_table("loan").c.id == sa.bindparam("status_loan", type_=sa.Integer),
             *scope_filters(currency=None, villages=villages)]
    pos = positions(as_of, where, detail=True)
    return sa.select(pos, sa.literal(as_of, sa.Date).label("as_of"))


def loan_status(session: Session, *, actor: Actor, loan_id: int, as_of: date) -> LoanStatus:
    """The loan's outstanding principal, interest due, overdue amount and days, next
    installment, payoff amount and status at the end of `as_of`."""
    actor.require(Permission.READ)
    ln, fam = core_table("loan"), core_table("family")
    where = loan_filters(actor, loan_id=loan_id)
    head = session.execute(
        sa.select(ln.c.ref, ln.c.currency, ln.c.principal_minor, ln.c.disbursed_on,
                  fam.c.ref.label("family_ref"))
        .select_from(ln.join(fam, fam.c.id == ln.c.family_id)).where(*where)).first()
    if head is None:
        raise NotFound(f"loan id {loan_id} is not in this ledger", field="loan")
    cur = get_currency(head.currency)
    zero = Money.zero(cur)
    r = session.execute(_status_query(as_of, actor.villages), {"status_loan": loan_id}).first()
    if r is None:
        return LoanStatus(loan_id, head.ref, head.family_ref, as_of, cur.code,
                          money(head.principal_minor, cur), head.disbursed_on, "not_disbursed",
                          zero, zero, zero, 0, None, bucket_of(None, as_of).value, None, zero,
                          zero)
    paid = minor(r.paid) + (BIG if r.closed_on is not None and r.closed_on <= as_of else 0)
    next_amount = (minor(r.next_cum) - max(paid, minor(r.next_before))
                   if r.next_due is not None else 0)
    status = _status(r, as_of)
    payoff = 0 if status == "written_off" else _payoff(r)
    return LoanStatus(
        loan_id=loan_id, ref=head.ref, family_ref=head.family_ref, as_of=as_of,
        currency=cur.code, principal=money(head.principal_minor, cur),
        disbursed_on=head.disbursed_on, status=status,
        outstanding_principal=money(r.outstanding_principal, cur),
        interest_due=money(r.interest_due, cur), overdue=money(r.overdue, cur),
        days_overdue=days_overdue(r.oldest_due, as_of), oldest_due=r.oldest_due,
        bucket=bucket_of(r.oldest_due, as_of).value, next_due_date=r.next_due,
        next_due_amount=money(next_amount, cur), payoff=money(payoff, cur))
