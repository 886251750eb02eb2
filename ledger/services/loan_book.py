"""Reading one loan back: its terms, its schedules (reschedules included), its payments, and
the replayed state — the single place services and reports turn rows into `LoanState`."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.allocation import Due, LoanState, Parts, Payment, allocate
from ledger.db.tables import Loan, core_table
from ledger.loan_terms import (
    Amortization,
    FrequencyUnit,
    InterestMethod,
    LoanTerms,
    RatePeriod,
)
from ledger.money import Currency, Money, get_currency
from ledger.services.driver import Dates, day, driver_rows
from ledger.services.errors import NotFound

__all__ = [
    "BOOKED_KINDS",
    "NEW_PAYMENT_REF",
    "booked_entries",
    "booked_from_sums",
    "booked_parts",
    "booked_parts_by_loan",
    "compose_dues",
    "first_schedules",
    "get_loan",
    "last_reschedule_on",
    "last_reschedules",
    "load_dues",
    "load_payments",
    "load_state",
    "load_states",
    "loan_terms",
    "minor_amount",
    "schedule_versions",
    "standing_payments",
]

# Replay position of a payment not yet stored: after every stored payment of the same day,
# exactly where its (larger) database id will put it once stored.
NEW_PAYMENT_REF = sys.maxsize
# Entry kinds whose loan postings carry repayment allocations (see `booked_parts`).
BOOKED_KINDS = ("repayment", "reallocation")


def get_loan(session: Session, loan_id: int, *, lock: bool = False) -> Loan:
    """The loan row (locked FOR UPDATE on PostgreSQL when `lock`), or NotFound."""
    loan = session.get(Loan, loan_id, with_for_update=True if lock else None)
    if loan is None:
        raise NotFound(f"loan id {loan_id} is not in this ledger", field="loan")
    return loan


def loan_terms(loan: Loan, *, disbursed_on: date | None = None) -> LoanTerms:
    """The contract terms stored on a loan, as the schedule engine takes them."""
    cur = get_currency(loan.currency)
    return LoanTerms(
        principal=Money.from_minor(loan.principal_minor, cur).amount, currency=cur,
        rate=loan.rate, rate_period=RatePeriod(loan.rate_period),
        method=InterestMethod(loan.method), amortization=Amortization(loan.amortization),
        repayments=loan.repayments,
        disbursed_on=disbursed_on or loan.disbursed_on or loan.applied_on,
        every=loan.every, unit=FrequencyUnit(loan.unit), first_due_on=loan.first_due_on,
        multiple=Money.from_minor(loan.multiple_minor, cur).amount if loan.multiple_minor else None,
        grace_principal=loan.grace_principal, grace_interest=loan.grace_interest,
    )


def minor_amount(minor: object, cur: Currency) -> Decimal:
    """An amount in minor units as an exact Decimal of `cur` (the hot path of every replay:
    no Money object needed)."""
    return Decimal(int(str(minor))).scaleb(-cur.digits)


def booked_entries() -> sa.ColumnElement[bool]:
    """Which journal entries carry repayment allocations (see `booked_parts`): repayments,
    reallocations, and the reversals of those."""
    je = core_table("journal_entry")
    orig = je.alias("orig")
    return sa.or_(
        je.c.kind.in_(BOOKED_KINDS),
        sa.and_(je.c.kind == "reversal",
                sa.exists().where(orig.c.id == je.c.reverses_id, orig.c.kind.in_(BOOKED_KINDS))),
    )


@cache
def _statements() -> dict[str, sa.Select[Any]]:
    """The per-loan queries, built once: building SQLAlchemy expressions costs more than
    running them on a small loan, and every repayment runs all of them."""
    ls, si = core_table("loan_schedule"), core_table("schedule_installment")
    rp, rr = core_table("repayment"), core_table("repayment_reversal")
    je, post, acct = core_table("journal_entry"), core_table("posting"), core_table("account")
    loan_id: sa.BindParameter[int] = sa.bindparam("loan_id")
    booked = booked_entries()
    return {
        "schedules": sa.select(ls.c.id, ls.c.created_on, si.c.number, si.c.due_date,
                               si.c.principal_minor, si.c.interest_minor, si.c.fee_minor,
                               si.c.penalty_minor)
        .join(si, si.c.schedule_id == ls.c.id).where(ls.c.loan_id == loan_id)
        .order_by(ls.c.version, si.c.number),
        "rescheduled": sa.select(sa.func.max(ls.c.created_on))
        .where(ls.c.loan_id == loan_id, ls.c.version > 1),
        "payments": sa.select(rp.c.id, rp.c.paid_on, rp.c.amount_minor)
        .where(rp.c.loan_id == loan_id, ~sa.exists().where(rr.c.repayment_id == rp.c.id))
        .order_by(rp.c.paid_on, rp.c.id),
        "booked": sa.select(post.c.component, post.c.currency, sa.func.sum(post.c.amount_minor))
        .join(je, je.c.id == post.c.entry_id).join(acct, acct.c.id == post.c.account_id)
        .where(post.c.loan_id == loan_id, post.c.component.is_not(None),
               acct.c.role != "cash", acct.c.role != "cash_box", booked)
        .group_by(post.c.component, post.c.currency),
        "booked_by_loan": sa.select(post.c.loan_id, post.c.component, post.c.currency,
                                    sa.func.sum(post.c.amount_minor))
        .join(je, je.c.id == post.c.entry_id).join(acct, acct.c.id == post.c.account_id)
        .where(post.c.loan_id.in_(sa.bindparam("loan_ids", expanding=True)),
               post.c.component.is_not(None), acct.c.role != "cash", acct.c.role != "cash_box",
               booked)
        .group_by(post.c.loan_id, post.c.component, post.c.currency),
    }


def _schedules(session: Session, loan: Loan) -> list[tuple[date, list[Due]]]:
    cur = get_currency(loan.currency)
    rows = session.execute(_statements()["schedules"], {"loan_id": loan.id}).all()
    out: dict[int, tuple[date, list[Due]]] = {}
    for sid, created, number, due, p, i, f, pen in rows:
        out.setdefault(int(sid), (created, []))[1].append(
            Due(int(number), due, minor_amount(p, cur), minor_amount(i, cur),
                minor_amount(f, cur), minor_amount(pen, cur)))
    return list(out.values())


def last_reschedule_on(session: Session, loan_id: int) -> date | None:
    """The date the loan was last rescheduled, or None."""
    result: date | None = session.execute(
        _statements()["rescheduled"], {"loan_id": loan_id}).scalar_one_or_none()
    return result


def load_payments(session: Session, loan_id: int, *, currency: Currency) -> tuple[Payment, ...]:
    """The loan's repayments that stand (not reversed), as replay payments keyed by id."""
    rows = session.execute(_statements()["payments"], {"loan_id": loan_id}).all()
    return tuple(Payment(int(i), d, minor_amount(a, currency)) for i, d, a in rows)


def _settled(state: LoanState, on: date) -> list[Due]:
    """What a superseded schedule was paid by `on`, as dues that are exactly settled; parts
    paid ahead on later installments are merged into one due dated `on`."""
    kept: list[Due] = []
    ahead = Parts()
    for inst in state.installments:
        if inst.paid.total == 0:
            continue
        if inst.due_date <= on:
            kept.append(Due(len(kept) + 1, inst.due_date, inst.paid.principal, inst.paid.interest,
                            inst.paid.fee, inst.paid.penalty))
        else:
            ahead = ahead + inst.paid
    if ahead.total:
        if kept and kept[-1].due_date == on:
            last = kept.pop()
            ahead = ahead + last.parts
        kept.append(Due(len(kept) + 1, on, ahead.principal, ahead.interest, ahead.fee,
                        ahead.penalty))
    return kept


def load_dues(session: Session, loan: Loan,
              payments: tuple[Payment, ...] | None = None) -> tuple[Due, ...]:
    """The dues payments replay over: the first schedule, and after each reschedule what the
    old one was paid followed by the new schedule's installments, numbered on."""
    assert loan.id is not None
    versions = _schedules(session, loan)
    if len(versions) > 1 and payments is None:
        payments = load_payments(session, loan.id, currency=get_currency(loan.currency))
    return compose_dues(versions, payments or ())


def compose_dues(versions: list[tuple[date, list[Due]]],
                 payments: tuple[Payment, ...]) -> tuple[Due, ...]:
    """Pure part of `load_dues`: schedule versions (created on, dues) in order, composed over
    the payments that stand; callers that load many loans at once use it directly."""
    if not versions:
        return ()
    dues = versions[0][1]
    for created_on, new in versions[1:]:
        before = allocate(tuple(dues), [p for p in payments if p.paid_on <= created_on],
                          strict=False)
        settled = _settled(before, created_on)
        dues = settled + [Due(len(settled) + d.number, d.due_date, d.principal, d.interest,
                              d.fee, d.penalty) for d in new]
    return tuple(dues)


def schedule_versions(session: Session, loan_ids: list[int] | None = None
                      ) -> dict[int, list[tuple[date, list[Due]]]]:
    """Every loan's schedule versions in one query (all loans, or those named), keyed by loan."""
    ls, si, loan = (core_table("loan_schedule"), core_table("schedule_installment"),
                    core_table("loan"))
    query = (sa.select(ls.c.loan_id, ls.c.id, ls.c.created_on, loan.c.currency, si.c.number,
                       si.c.due_date, si.c.principal_minor, si.c.interest_minor, si.c.fee_minor,
                       si.c.penalty_minor)
             .join(si, si.c.schedule_id == ls.c.id).join(loan, loan.c.id == ls.c.loan_id)
             .order_by(ls.c.loan_id, ls.c.version, si.c.number))
    if loan_ids is not None:
        query = query.where(ls.c.loan_id.in_(loan_ids))
    grouped: dict[int, dict[int, tuple[date, list[Due]]]] = {}
    for lid, sid, created, currency, number, due, p, i, f, pen in session.execute(query):
        cur = get_currency(str(currency))
        grouped.setdefault(int(lid), {}).setdefault(int(sid), (created, []))[1].append(
            Due(int(number), due, minor_amount(p, cur), minor_amount(i, cur),
                minor_amount(f, cur), minor_amount(pen, cur)))
    return {lid: list(v.values()) for lid, v in grouped.items()}


def load_state(session: Session, loan: Loan, *, as_of: date | None = None,
               strict: bool = False) -> LoanState:
    """Replay the loan's standing payments over its dues (optionally only up to `as_of`)."""
    assert loan.id is not None
    payments = load_payments(session, loan.id, currency=get_currency(loan.currency))
    dues = load_dues(session, loan, payments)
    return allocate(dues, payments, as_of=as_of, strict=strict)


def booked_parts(session: Session, loan_id: int) -> Parts:
    """What the journal has booked as repaid on this loan, by component: the credits of
    repayment and reallocation entries and of the reversals of those entries."""
    return booked_from_sums(session.execute(_statements()["booked"], {"loan_id": loan_id}))


def booked_from_sums(rows: Iterable[Any]) -> Parts:
    """`booked_parts` from the journal's sums, rows of (component, currency, sum of the
    postings in minor units): credits are negative postings."""
    parts = {c: Decimal(0) for c in ("penalty", "fee", "interest", "principal")}
    for component, currency, total in rows:
        parts[str(component)] = -minor_amount(total, get_currency(str(currency)))
    return Parts(parts["penalty"], parts["fee"], parts["interest"], parts["principal"])


def booked_parts_by_loan(session: Session, loan_ids: list[int]) -> dict[int, Parts]:
    """`booked_parts` of many loans in one grouped query per 900 loans (bulk posting)."""
    sums: dict[int, dict[str, Decimal]] = {}
    for start in range(0, len(loan_ids), 900):
        chunk = loan_ids[start:start + 900]
        for loan_id, component, currency, total in session.execute(
                _statements()["booked_by_loan"], {"loan_ids": chunk}):
            sums.setdefault(int(loan_id), {})[str(component)] = -minor_amount(
                total, get_currency(str(currency)))
    zero = Decimal(0)
    return {i: Parts(*(sums.get(i, {}).get(c, zero)
                       for c in ("penalty", "fee", "interest", "principal")))
            for i in loan_ids}


# Batched readers for bulk posting: one query per 900 loans, each value converted once.
_BATCH = 900


class _Amounts(dict[int, Decimal]):
    """Minor units of one currency to exact amounts (schedules share most of theirs)."""

    def __init__(self, currency: str) -> None:
        super().__init__()
        self.digits = -get_currency(currency).digits

    def __missing__(self, minor: int) -> Decimal:
        value = self[minor] = Decimal(minor).scaleb(self.digits)
        return value


class _Currencies(dict[str, _Amounts]):
    def __missing__(self, currency: str) -> _Amounts:
        amounts = self[currency] = _Amounts(currency)
        return amounts


def _driver_value(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    # The column as the driver returns it, without SQLAlchemy's per-row conversion.
    return sa.type_coerce(column, sa.String)


def last_reschedules(session: Session, loan_ids: list[int]) -> dict[int, date]:
    """`last_reschedule_on` of many loans (only those ever rescheduled appear), read through
    the driver (`ledger.services.driver`): imports and bulk posting ask it of thousands."""
    return {int(loan_id): day(on) for loan_id, on in driver_rows(
        session, "SELECT loan_id, MAX(created_on) FROM loan_schedule "
        "WHERE loan_id {values} AND version > 1 GROUP BY loan_id", list(loan_ids))}


def first_schedules(session: Session, currency_of: dict[int, str]) -> dict[int, list[Due]]:
    """The disbursement schedule (version 1) of each loan in `currency_of`, as dues."""
    ls, si = core_table("loan_schedule"), core_table("schedule_installment")
    ids = sorted(currency_of)
    out: dict[int, list[Due]] = {}
    amounts, days = _Currencies(), Dates()
    for start in range(0, len(ids), _BATCH):
        for loan_id, number, due, p, i, f, pen in session.execute(
            sa.select(ls.c.loan_id, si.c.number, _driver_value(si.c.due_date),
                      si.c.principal_minor, si.c.interest_minor, si.c.fee_minor,
                      si.c.penalty_minor)
            .join(si, si.c.schedule_id == ls.c.id)
            .where(ls.c.loan_id.in_(ids[start:start + _BATCH]), ls.c.version == 1)
            .order_by(ls.c.loan_id, si.c.number)
        ):
            cur = amounts[currency_of[loan_id]]
            out.setdefault(loan_id, []).append(
                Due(number, days[due], cur[p], cur[i], cur[f], cur[pen]))
    return out


def standing_payments(session: Session, loan_ids: list[int]) -> dict[int, list[Payment]]:
    """`load_payments` of many loans: the repayments that stand, in replay order."""
    rp, rr = core_table("repayment"), core_table("repayment_reversal")
    out: dict[int, list[Payment]] = {}
    amounts, days = _Currencies(), Dates()
    for start in range(0, len(loan_ids), _BATCH):
        for loan_id, pid, paid_on, amount, currency in session.execute(
            sa.select(rp.c.loan_id, rp.c.id, _driver_value(rp.c.paid_on), rp.c.amount_minor,
                      rp.c.currency)
            .where(rp.c.loan_id.in_(loan_ids[start:start + _BATCH]),
                   ~sa.exists().where(rr.c.repayment_id == rp.c.id))
            .order_by(rp.c.loan_id, rp.c.paid_on, rp.c.id)
        ):
            out.setdefault(loan_id, []).append(
                Payment(pid, days[paid_on], amounts[currency][amount]))
    return out


def load_states(session: Session, loans: Iterable[Loan]) -> dict[int, LoanState]:
    """`load_state` of many loans, keyed by id, from grouped queries instead of three or four
    per loan: a village's collection sheet replays every active loan it lists."""
    ids = sorted({int(loan.id) for loan in loans if loan.id is not None})
    versions: dict[int, list[tuple[date, list[Due]]]] = {}
    for start in range(0, len(ids), _BATCH):
        versions.update(schedule_versions(session, ids[start:start + _BATCH]))
    stored = standing_payments(session, ids)
    out = {}
    for loan_id in ids:
        payments = tuple(stored.get(loan_id, ()))
        out[loan_id] = allocate(compose_dues(versions.get(loan_id, []), payments), payments)
    return out
