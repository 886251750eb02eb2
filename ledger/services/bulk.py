"""Set-based posting of many repayments at once (imports), booked exactly as one by one.

`post_repayments` gives the same journal, repayment rows, loan states and hash chain as calling
`record_repayment` for each payment in (date, input) order: each loan's payments are replayed
once with `ledger.allocation`, every entry's lines and hash are computed in Python in chain
order, and entries, postings, repayments and loan events are written with Core executemany
instead of one ORM object per row.
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
from ledger.allocation import COMPONENTS, Due, LoanState, Parts, Payment, allocate
from ledger.db.tables import Loan, core_table, utc_now
from ledger.money import Money, format_amount, get_currency
from ledger.services.bulk_chain import CHUNK, ChainWriter, reserve_ids
from ledger.services.errors import Conflict, ServiceError
from ledger.services.loan_book import booked_parts, load_dues, load_payments
from ledger.services.unit import transactional

__all__ = ["CHUNK", "BulkResult", "ChainWriter", "NewRepayment", "post_repayments", "replay_inputs",
           "reserve_ids"]

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


def _rescheduled(session: Session, ids: list[int]) -> dict[int, date]:
    ls = core_table("loan_schedule")
    out: dict[int, date] = {}
    for chunk in _chunks(ids, 900):
        for loan_id, on in session.execute(
            sa.select(ls.c.loan_id, sa.func.max(ls.c.created_on))
            .where(ls.c.loan_id.in_(chunk), ls.c.version > 1).group_by(ls.c.loan_id)
        ):
            out[int(loan_id)] = on
    return out


def _first_schedules(session: Session, ids: list[int], loans: dict[int, _LoanRow]
                     ) -> dict[int, list[Due]]:
    """The disbursement schedule of each loan, in one query per chunk of loans."""
    ls, si = core_table("loan_schedule"), core_table("schedule_installment")
    out: dict[int, list[Due]] = defaultdict(list)
    for chunk in _chunks(ids, 900):
        for loan_id, number, due, p, i, f, pen in session.execute(
            sa.select(ls.c.loan_id, si.c.number, si.c.due_date, si.c.principal_minor,
                      si.c.interest_minor, si.c.fee_minor, si.c.penalty_minor)
            .join(si, si.c.schedule_id == ls.c.id)
            .where(ls.c.loan_id.in_(chunk), ls.c.version == 1)
            .order_by(ls.c.loan_id, si.c.number)
        ):
            digits = -get_currency(loans[int(loan_id)].currency).digits
            out[int(loan_id)].append(Due(int(number), due, *(
                Decimal(int(v)).scaleb(digits) for v in (p, i, f, pen))))
    return out


def _stored_payments(session: Session, ids: list[int]) -> dict[int, list[Payment]]:
    rp, rr = core_table("repayment"), core_table("repayment_reversal")
    out: dict[int, list[Payment]] = defaultdict(list)
    for chunk in _chunks(ids, 900):
        for loan_id, pid, paid_on, amount, currency in session.execute(
            sa.select(rp.c.loan_id, rp.c.id, rp.c.paid_on, rp.c.amount_minor, rp.c.currency)
            .where(rp.c.loan_id.in_(chunk), ~sa.exists().where(rr.c.repayment_id == rp.c.id))
            .order_by(rp.c.loan_id, rp.c.paid_on, rp.c.id)
        ):
            out[int(loan_id)].append(Payment(int(pid), paid_on, Decimal(int(amount)).scaleb(
                -get_currency(str(currency)).digits)))
    return out


def replay_inputs(session: Session, loan_ids: Sequence[int]
                  ) -> dict[int, tuple[tuple[Due, ...], list[Payment]]]:
    """Per loan, the dues its payments replay over and its standing payments (by id), read
    in a few queries for all loans at once; rescheduled loans go through `load_dues`."""
    ids = sorted(set(loan_ids))
    loans = _loans(session, ids)
    rescheduled = _rescheduled(session, ids)
    stored = _stored_payments(session, ids)
    schedules = _first_schedules(session, [i for i in ids if i not in rescheduled], loans)
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


def _refused(loan: _LoanRow, p: Payment, payoff: Decimal) -> ServiceError:
    cur = get_currency(loan.currency)
    if payoff == 0:
        return ServiceError(f"loan {loan.ref} is already fully repaid on {p.paid_on}",
                            field="amount")
    return ServiceError(f"{format_amount(p.amount, cur)} is more than the payoff amount of "
                        f"{format_amount(payoff, cur)} on {p.paid_on}", field="amount")


def _replay(loan: _LoanRow, dues: tuple[Due, ...], stored: list[Payment], new: list[Payment],
            booked: Parts) -> list[tuple[Parts, date | None]]:
    """Per new payment (in order): the allocation change to book, and the closing date when
    that payment leaves nothing owed — what `record_repayment` computes, payment by payment."""
    out: list[tuple[Parts, date | None]] = []
    if not stored or new[0].paid_on >= stored[-1].paid_on:
        # Every new payment replays after the stored ones: one replay gives all allocations.
        whole = allocate(dues, [*stored, *new], strict=False)
        by_ref = {a.payment.ref: a for a in whole.allocations}
        refused = {r.payment.ref: r for r in whole.refused}
        before = Parts()
        for p in stored:
            if p.ref in by_ref:
                before = before + by_ref[p.ref].parts
        drift = before - booked
        owed = sum((d.parts.total for d in dues), Decimal(0)) - before.total - sum(
            (s.parts.total for p in stored if p.ref in by_ref for s in by_ref[p.ref].waived),
            Decimal(0))
        for p in new:
            if p.ref in refused:
                raise _refused(loan, p, refused[p.ref].payoff)
            if out and out[-1][1] is not None:
                raise ServiceError(f"loan {loan.ref} was closed on {out[-1][1]}; payments go "
                                   "only to active loans", field="loan")
            a = by_ref[p.ref]
            owed -= a.parts.total + sum((s.parts.total for s in a.waived), Decimal(0))
            out.append((a.parts + drift, p.paid_on if owed == 0 else None))
            drift = Parts()
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
        out.append((change, closed))
    return out


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
    rescheduled = _rescheduled(session, loan_ids)
    _check(loans, payments, today, rescheduled)
    _check_refs(session, payments)
    repayment_ids = reserve_ids(session, "repayment", len(payments))
    rid = {n: repayment_ids[k] for k, n in enumerate(order)}

    inputs = replay_inputs(session, loan_ids)
    per_loan: dict[int, list[int]] = defaultdict(list)
    for n in order:
        per_loan[payments[n].loan_id].append(n)
    change: dict[int, tuple[Parts, date | None]] = {}
    for loan_id, ns in per_loan.items():
        loan = loans[loan_id]
        dues, stored = inputs[loan_id]
        new = [Payment(rid[n], payments[n].paid_on, payments[n].amount.amount) for n in ns]
        booked = booked_parts(session, loan_id) if stored else Parts()
        for n, result in zip(ns, _replay(loan, dues, stored, new, booked), strict=True):
            change[n] = result

    at = utc_now()
    cash: dict[int, tuple[int, str]] = {}
    income: dict[tuple[int, str], tuple[int, str]] = {}
    for fund_id in {loans[i].fund_id for i in loan_ids}:
        acct = account_for(session, AccountRole.CASH, fund_id=fund_id)
        assert acct.id is not None
        cash[fund_id] = (acct.id, acct.code)
        for component in COMPONENTS:
            acct = account_for(session, _INCOME[component], fund_id=fund_id)
            assert acct.id is not None
            income[(fund_id, component)] = (acct.id, acct.code)

    entry_ids = reserve_ids(session, "journal_entry", len(payments))
    rp, ev, ln = core_table("repayment"), core_table("loan_event"), core_table("loan")
    closed: list[tuple[int, date]] = []
    for start in range(0, len(order), CHUNK):
        repayments: list[dict[str, Any]] = []
        for k in range(start, min(start + CHUNK, len(order))):
            n = order[k]
            p, loan = payments[n], loans[payments[n].loan_id]
            parts, closed_on = change[n]
            cash_id, cash_code = cash[loan.fund_id]
            digits = p.amount.currency.digits
            lines: list[tuple[int, str, int, int | None, str | None]] = [
                (cash_id, cash_code, p.amount.minor, loan.id, None)]
            for component in COMPONENTS:
                value = parts.get(component)
                if value:
                    acct_id, code = income[(loan.fund_id, component)]
                    lines.append((acct_id, code, -int(value.scaleb(digits)), loan.id,
                                  component))
            writer.add(entry_id=entry_ids[k], kind="repayment", occurred_on=p.paid_on,
                       memo=f"Repayment on loan {loan.ref} from {loan.who}"
                            + (f": {p.note}" if p.note else ""),
                       by=actor.name, at=at, loan_id=loan.id, currency=p.amount.currency.code,
                       lines=lines)
            repayments.append({
                "id": rid[n], "ref": p.ref, "loan_id": loan.id, "paid_on": p.paid_on,
                "amount_minor": p.amount.minor, "currency": p.amount.currency.code,
                "cash_account_id": cash_id, "received_by": p.received_by or actor.name,
                "note": p.note, "entry_id": entry_ids[k], "created_at": at})
            if closed_on is not None:
                closed.append((loan.id, closed_on))
        writer.write()
        session.execute(rp.insert(), repayments)
        if progress is not None:
            progress(min(start + CHUNK, len(order)), len(order))
    if closed:
        session.execute(ln.update().where(ln.c.id == sa.bindparam("loan"))
                        .values(status="closed", closed_on=sa.bindparam("on")),
                        [{"loan": i, "on": on} for i, on in closed])
        session.execute(ev.insert(), [
            {"loan_id": i, "event": "closed", "status": "closed", "occurred_on": on,
             "recorded_by": actor.name, "recorded_at": at, "note": "fully repaid"}
            for i, on in closed])
    session.expire_all()  # loans changed underneath the identity map
    return BulkResult(tuple(rid[n] for n in range(len(payments))),
                      tuple(i for i, _ in closed))
