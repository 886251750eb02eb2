"""Set-based posting of many repayments at once (imports), booked exactly as one by one.

`post_repayments` gives the same journal, repayment rows, loan states and hash chain as calling
`record_repayment` for each payment in (date, input) order: the inputs of every loan (schedule,
standing payments, what the journal booked) are read in a few grouped queries, each loan's
payments are replayed once with `ledger.allocation.Replay` (standing ones first, new ones
after), every entry's lines and hash are computed in Python in chain order, and entries,
postings, repayments and loan events are written in batches by `RowWriter` instead of one ORM
object per row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.accounts import AccountRole, account_for
from ledger.actor import Actor, Permission
from ledger.allocation import (
    COMPONENTS,
    Due,
    LoanState,
    Parts,
    Payment,
    Refusal,
    Replay,
    allocate,
)
from ledger.db.tables import Loan, core_table, utc_now
from ledger.money import Money, format_amount, get_currency
from ledger.services.bulk_chain import CHUNK, ChainWriter, RowWriter, reserve_ids
from ledger.services.errors import Conflict, ServiceError
from ledger.services.loan_book import (
    booked_parts_by_loan,
    first_schedules,
    last_reschedules,
    load_dues,
    load_payments,
    standing_payments,
)
from ledger.services.unit import transactional

__all__ = ["CHUNK", "BulkResult", "ChainWriter", "NewRepayment", "RowWriter", "post_repayments",
           "replay_inputs", "reserve_ids"]

Progress = Callable[[int, int], None]
_INCOME = {"interest": AccountRole.INTEREST_INCOME, "fee": AccountRole.FEE_INCOME,
           "penalty": AccountRole.PENALTY_INCOME, "principal": AccountRole.LOAN_PORTFOLIO}


@dataclass(frozen=True, slots=True)
class NewRepayment:
    """One payment to post; `received_by` defaults to the acting user."""

    loan_id: int
    paid_on: date
    amount: Money
    ref: str | None = None
    received_by: str | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class BulkResult:
    """What was posted: repayment ids in input order, and the loans the batch closed."""

    repayment_ids: tuple[int, ...]
    closed_loans: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class _LoanRow:
    id: int
    ref: str
    status: str
    currency: str
    fund_id: int
    disbursed_on: date | None
    who: str


def _loans(session: Session, ids: list[int]) -> dict[int, _LoanRow]:
    loan, fam = core_table("loan"), core_table("family")
    out: dict[int, _LoanRow] = {}
    for chunk in _chunks(ids, 900):
        for r in session.execute(
            sa.select(loan.c.id, loan.c.ref, loan.c.status, loan.c.currency, loan.c.fund_id,
                      loan.c.disbursed_on, fam.c.head_name_latin, fam.c.head_name)
            .join(fam, fam.c.id == loan.c.family_id).where(loan.c.id.in_(chunk))
        ):
            out[int(r[0])] = _LoanRow(int(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]),
                                      r[5], str(r[6] or r[7]))
    return out


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _check(loans: dict[int, _LoanRow], payments: Sequence[NewRepayment], today: date,
           rescheduled: dict[int, date]) -> None:
    """The refusals of `record_repayment`, for the whole batch, before anything is written."""
    for p in payments:
        loan = loans.get(p.loan_id)
        if loan is None:
            raise ServiceError(f"loan id {p.loan_id} is not in this ledger", field="loan")
        if loan.status == "written_off":
            raise ServiceError(f"loan {loan.ref} was written off; record a recovery instead",
                               field="loan")
        if loan.status != "active" or loan.disbursed_on is None:
            raise ServiceError(f"loan {loan.ref} is {loan.status}; payments go only to active "
                               "loans", field="loan")
        if p.amount.currency != get_currency(loan.currency):
            raise ServiceError(f"loan {loan.ref} is in {loan.currency}, not "
                               f"{p.amount.currency.code}", field="amount")
        if p.amount.amount <= 0:
            raise ServiceError("a repayment must be more than zero", field="amount")
        if p.paid_on < loan.disbursed_on:
            raise ServiceError(f"{p.paid_on} is before loan {loan.ref} was disbursed on "
                               f"{loan.disbursed_on}", field="paid_on")
        if p.paid_on > today:
            raise ServiceError(f"{p.paid_on} is in the future", field="paid_on")
        if p.loan_id in rescheduled and p.paid_on <= rescheduled[p.loan_id]:
            raise ServiceError(f"loan {loan.ref} was rescheduled on {rescheduled[p.loan_id]}; "
                               f"a payment dated {p.paid_on} cannot change the old schedule",
                               field="paid_on")


def _check_refs(session: Session, payments: Sequence[NewRepayment]) -> None:
    refs = [p.ref for p in payments if p.ref is not None]
    seen: set[str] = set()
    for ref in refs:
        if ref in seen:
            raise Conflict(f"repayment ref {ref!r} appears twice in the batch", field="ref")
        seen.add(ref)
    rp = core_table("repayment")
    for chunk in _chunks(refs, 900):
        found = session.execute(sa.select(rp.c.ref).where(rp.c.ref.in_(chunk))).first()
        if found is not None:
            raise Conflict(f"a repayment with ref {found[0]!r} is already in the ledger",
                           field="ref")


def _inputs(session: Session, ids: list[int], loans: dict[int, _LoanRow],
            rescheduled: dict[int, date]) -> dict[int, tuple[tuple[Due, ...], list[Payment]]]:
    stored = standing_payments(session, ids)
    schedules = first_schedules(session, {i: loans[i].currency for i in ids
                                          if i not in rescheduled})
    out: dict[int, tuple[tuple[Due, ...], list[Payment]]] = {}
    for loan_id in ids:
        if loan_id in rescheduled:
            row = session.get(Loan, loan_id)
            assert row is not None
            pays = load_payments(session, loan_id, currency=get_currency(row.currency))
            out[loan_id] = (load_dues(session, row, pays), list(pays))
        else:
            out[loan_id] = (tuple(schedules.get(loan_id, ())), stored.get(loan_id, []))
    return out


def replay_inputs(session: Session, loan_ids: Sequence[int]
                  ) -> dict[int, tuple[tuple[Due, ...], list[Payment]]]:
    """Per loan, the dues its payments replay over and its standing payments (by id), read
    in a few queries for all loans at once; rescheduled loans go through `load_dues`."""
    ids = sorted(set(loan_ids))
    return _inputs(session, ids, _loans(session, ids), last_reschedules(session, ids))


def _refused(loan: _LoanRow, p: Payment, payoff: Decimal) -> ServiceError:
    cur = get_currency(loan.currency)
    if payoff == 0:
        return ServiceError(f"loan {loan.ref} is already fully repaid on {p.paid_on}",
                            field="amount")
    return ServiceError(f"{format_amount(p.amount, cur)} is more than the payoff amount of "
                        f"{format_amount(payoff, cur)} on {p.paid_on}", field="amount")


def _credits(parts: Parts, digits: int) -> tuple[tuple[str, int], ...]:
    # The allocation lines of one payment: (component, minor units credited), nonzero only.
    # Riel amounts are whole already: int() alone is their minor units.
    out = []
    for c, v in (("penalty", parts.penalty), ("fee", parts.fee),
                 ("interest", parts.interest), ("principal", parts.principal)):
        if v:
            out.append((c, int(v.scaleb(digits)) if digits else int(v)))
    return tuple(out)


Change = tuple[tuple[tuple[str, int], ...], date | None]


def _replay(loan: _LoanRow, dues: tuple[Due, ...], stored: list[Payment], new: list[Payment],
            booked: Parts) -> list[Change]:
    """Per new payment (in order): the allocation change to book, as minor-unit credits by
    component, and the closing date when that payment leaves nothing owed — what
    `record_repayment` computes, payment by payment."""
    digits = get_currency(loan.currency).digits
    out: list[Change] = []
    if not stored or new[0].paid_on >= stored[-1].paid_on:
        # Every new payment replays after the stored ones: one replay, fed in order, gives
        # every allocation; the journal's drift from the replay goes with the first one.
        replay = Replay(dues)
        for p in stored:
            replay.split(p)
        drift = replay.paid - booked if stored else None
        for p in new:
            result = replay.split(p)
            if isinstance(result, Refusal):
                raise _refused(loan, p, result.payoff)
            if out and out[-1][1] is not None:
                raise ServiceError(f"loan {loan.ref} was closed on {out[-1][1]}; payments go "
                                   "only to active loans", field="loan")
            if drift is not None:
                result = result + drift
                drift = None
            out.append((_credits(result, digits), p.paid_on if replay.settled else None))
        return out
    state: LoanState = allocate(dues, stored, strict=False)
    running = booked
    for p in new:
        if out and out[-1][1] is not None:
            raise ServiceError(f"loan {loan.ref} was closed on {out[-1][1]}; payments go only "
                               "to active loans", field="loan")
        after = state.with_payment(p, strict=False)
        refusal = next((r for r in after.refused if r.payment.ref == p.ref), None)
        if refusal is not None:
            raise _refused(loan, p, refusal.payoff)
        if len(after.refused) > len(state.refused):
            later = after.refused[-1].payment
            raise ServiceError(f"a payment on {p.paid_on} would leave the later payment of "
                               f"{format_amount(later.amount, get_currency(loan.currency))} on "
                               f"{later.paid_on} above what loan {loan.ref} owes",
                               field="paid_on")
        change = after.paid - running
        running, state = after.paid, after
        closed = (after.closed_on or p.paid_on) if after.outstanding.total == 0 else None
        out.append((_credits(change, digits), closed))
    return out


def _accounts(session: Session, fund_ids: set[int]
              ) -> tuple[dict[int, tuple[int, str]], dict[int, dict[str, tuple[int, str]]]]:
    """Per fund: its cash account, and its account for each allocated component."""
    cash: dict[int, tuple[int, str]] = {}
    income: dict[int, dict[str, tuple[int, str]]] = {}
    for fund_id in fund_ids:
        acct = account_for(session, AccountRole.CASH, fund_id=fund_id)
        assert acct.id is not None
        cash[fund_id] = (acct.id, acct.code)
        income[fund_id] = {}
        for component in COMPONENTS:
            acct = account_for(session, _INCOME[component], fund_id=fund_id)
            assert acct.id is not None
            income[fund_id][component] = (acct.id, acct.code)
    return cash, income


def _changes(session: Session, payments: Sequence[NewRepayment], order: list[int],
             loans: dict[int, _LoanRow], rescheduled: dict[int, date], rid: dict[int, int]
             ) -> dict[int, Change]:
    """What each payment books (by input position), replaying each loan once."""
    per_loan: dict[int, list[int]] = defaultdict(list)
    for n in order:
        per_loan[payments[n].loan_id].append(n)
    ids = sorted(per_loan)
    inputs = _inputs(session, ids, loans, rescheduled)
    booked = booked_parts_by_loan(session, [i for i in ids if inputs[i][1]])
    change: dict[int, Change] = {}
    for loan_id, ns in per_loan.items():
        dues, stored = inputs[loan_id]
        new = [Payment(rid[n], payments[n].paid_on, payments[n].amount.amount) for n in ns]
        results = _replay(loans[loan_id], dues, stored, new, booked.get(loan_id, Parts()))
        change.update(zip(ns, results, strict=True))
    return change


REPAYMENT_COLUMNS = ("id", "ref", "loan_id", "paid_on", "amount_minor", "currency",
                     "cash_account_id", "received_by", "note", "entry_id", "created_at")
EVENT_COLUMNS = ("loan_id", "event", "status", "occurred_on", "recorded_by", "recorded_at",
                 "note")


@transactional
def post_repayments(
    session: Session,
    *,
    actor: Actor,
    payments: Sequence[NewRepayment],
    today: date,
    progress: Progress | None = None,
) -> BulkResult:
    """Post many repayments in one transaction, exactly as `record_repayment` would one by one
    in (paid_on, input) order; refuses the whole batch on the first problem."""
    actor.require(Permission.RECORD_REPAYMENTS)
    if not payments:
        return BulkResult((), ())
    writer = ChainWriter(session)  # takes the chain lock and flushes pending ORM writes
    order = sorted(range(len(payments)), key=lambda n: (payments[n].paid_on, n))
    loan_ids = sorted({p.loan_id for p in payments})
    loans = _loans(session, loan_ids)
    rescheduled = last_reschedules(session, loan_ids)
    _check(loans, payments, today, rescheduled)
    _check_refs(session, payments)
    repayment_ids = reserve_ids(session, "repayment", len(payments))
    rid = {n: repayment_ids[k] for k, n in enumerate(order)}
    change = _changes(session, payments, order, loans, rescheduled, rid)

    at = utc_now()
    cash, income = _accounts(session, {loans[i].fund_id for i in loan_ids})
    memo = {i: f"Repayment on loan {loan.ref} from {loan.who}" for i, loan in loans.items()}
    entry_ids = reserve_ids(session, "journal_entry", len(payments))
    rows = RowWriter(session, "repayment", REPAYMENT_COLUMNS)
    day, stamp = rows.binder("paid_on"), rows.binder("created_at")(at)
    closed: list[tuple[int, date]] = []
    for start in range(0, len(order), CHUNK):
        repayments: list[tuple[Any, ...]] = []
        for k in range(start, min(start + CHUNK, len(order))):
            n = order[k]
            p = payments[n]
            loan = loans[p.loan_id]
            credits, closed_on = change[n]
            cash_id, cash_code = cash[loan.fund_id]
            accounts = income[loan.fund_id]
            minor = p.amount.minor
            currency = p.amount.currency.code
            lines: list[tuple[int, str, int, int | None, str | None]] = [
                (cash_id, cash_code, minor, loan.id, None)]
            for component, value in credits:
                acct_id, code = accounts[component]
                lines.append((acct_id, code, -value, loan.id, component))
            writer.add(entry_id=entry_ids[k], kind="repayment", occurred_on=p.paid_on,
                       memo=memo[loan.id] + (f": {p.note}" if p.note else ""),
                       by=actor.name, at=at, loan_id=loan.id, currency=currency, lines=lines)
            repayments.append((rid[n], p.ref, loan.id, day(p.paid_on), minor, currency,
                               cash_id, p.received_by or actor.name, p.note, entry_ids[k],
                               stamp))
            if closed_on is not None:
                closed.append((loan.id, closed_on))
        writer.write()
        rows.write(repayments)
        if progress is not None:
            progress(min(start + CHUNK, len(order)), len(order))
    if closed:
        ln = core_table("loan")
        session.execute(ln.update().where(ln.c.id == sa.bindparam("loan"))
                        .values(status="closed", closed_on=sa.bindparam("on")),
                        [{"loan": i, "on": on} for i, on in closed])
        events = RowWriter(session, "loan_event", EVENT_COLUMNS)
        on_day, recorded = events.binder("occurred_on"), events.binder("recorded_at")(at)
        events.write([(i, "closed", "closed", on_day(on), actor.name, recorded, "fully repaid")
                      for i, on in closed])
    session.expire_all()  # loans changed underneath the identity map
    return BulkResult(tuple(rid[n] for n in range(len(payments))),
                      tuple(i for i, _ in closed))
