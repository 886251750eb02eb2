"""Set-based posting of many repayments at once (imports), booked exactly as one by one.

`post_repayments` gives the same journal, repayment rows, loan states and hash chain as calling
`record_repayment` for each payment in (date, input) order: the inputs of every loan (schedule,
standing payments, what the journal booked) are read in a few grouped queries, each loan's
payments are replayed once (standing ones first, new ones after; see
`ledger.services.bulk_replay`), every entry's lines and hash are computed in Python in chain
order, and entries, postings, repayments and loan events are written in batches by
`RowWriter` instead of one ORM object per row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.accounts import AccountRole, account_for
from ledger.actor import Actor, Permission
from ledger.allocation import COMPONENTS, Due, Payment
from ledger.cycles import collection_paused
from ledger.db.engine import sqlite_page_cache
from ledger.db.tables import core_table, utc_now
from ledger.money import Currency, Money, get_currency
from ledger.services.bulk_chain import CHUNK, ChainWriter, RowWriter, reserve_ids
from ledger.services.bulk_replay import LoanRow, NewPay, changes, decimal_inputs, loan_rows
from ledger.services.driver import driver_rows
from ledger.services.errors import Conflict, ServiceError
from ledger.services.loan_book import last_reschedules
from ledger.services.unit import transactional

__all__ = ["BULK_CACHE_KIB", "CHUNK", "BulkResult", "ChainWriter", "NewRepayment", "RowWriter",
           "post_repayments", "replay_inputs", "reserve_ids"]

Progress = Callable[[int, int], None]
# SQLite's page cache while posting, in KiB. A month's collections touch an index page or more
# per loan in each of several indexes, more than the default 2 MB holds: 5,000 payments at
# 1M loans took 287-290 ms with it and 275-278 ms with this (128 and 256 MB: no better; see
# bench/RESULTS.md). Only here: for one pass over a million loans a larger cache was slower.
BULK_CACHE_KIB = 65_536
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


def _check(loans: dict[int, LoanRow], payments: Sequence[NewRepayment], today: date,
           rescheduled: dict[int, date]) -> None:
    """The refusals of `record_repayment`, for the whole batch, before anything is written."""
    # Per loan whose own checks passed (done at its first payment): its currency, dates of
    # disbursement and of the last rescheduling; each payment is then checked against them in
    # one test, and `_refuse` says what is wrong with a payment that fails it.
    passed: dict[int, tuple[Currency, date, date | None]] = {}
    for p in payments:
        got = passed.get(p.loan_id)
        if got is None:
            loan = loans.get(p.loan_id)
            if loan is None:
                raise ServiceError(f"loan id {p.loan_id} is not in this ledger", field="loan")
            if loan.status == "written_off":
                raise ServiceError(f"loan {loan.ref} was written off; record a recovery "
                                   "instead", field="loan")
            if loan.status != "active" or loan.disbursed_on is None:
                raise ServiceError(f"loan {loan.ref} is {loan.status}; payments go only to "
                                   "active loans", field="loan")
            got = passed[p.loan_id] = (get_currency(loan.currency), loan.disbursed_on,
                                       rescheduled.get(p.loan_id))
        want, disbursed_on, moved_on = got
        # The same currency object in the usual case: no field comparison.
        if ((p.amount.currency is not want and p.amount.currency != want)
                or p.amount.amount <= 0 or p.paid_on < disbursed_on or p.paid_on > today
                or (moved_on is not None and p.paid_on <= moved_on)):
            _refuse(loans[p.loan_id], p, want, today, moved_on)


def _refuse(loan: LoanRow, p: NewRepayment, want: Currency, today: date,
            moved_on: date | None) -> None:
    # What is wrong with a payment to a loan that passed its own checks, first thing first.
    if p.amount.currency != want:
        raise ServiceError(f"loan {loan.ref} is in {loan.currency}, not "
                           f"{p.amount.currency.code}", field="amount")
    if p.amount.amount <= 0:
        raise ServiceError("a repayment must be more than zero", field="amount")
    assert loan.disbursed_on is not None
    if p.paid_on < loan.disbursed_on:
        raise ServiceError(f"{p.paid_on} is before loan {loan.ref} was disbursed on "
                           f"{loan.disbursed_on}", field="paid_on")
    if p.paid_on > today:
        raise ServiceError(f"{p.paid_on} is in the future", field="paid_on")
    if moved_on is not None and p.paid_on <= moved_on:
        raise ServiceError(f"loan {loan.ref} was rescheduled on {moved_on}; "
                           f"a payment dated {p.paid_on} cannot change the old schedule",
                           field="paid_on")


def _check_refs(session: Session, payments: Sequence[NewRepayment]) -> None:
    refs = [p.ref for p in payments if p.ref is not None]
    seen: set[str] = set()
    for ref in refs:
        if ref in seen:
            raise Conflict(f"repayment ref {ref!r} appears twice in the batch", field="ref")
        seen.add(ref)
    # On the connection's own cursor: for tens of thousands of refs Core's statement
    # building costs more than the lookups.
    found = next(driver_rows(session, "SELECT ref FROM repayment WHERE ref {values}", refs),
                 None)
    if found is not None:
        raise Conflict(f"a repayment with ref {found[0]!r} is already in the ledger",
                       field="ref")


def replay_inputs(session: Session, loan_ids: Sequence[int]
                  ) -> dict[int, tuple[tuple[Due, ...], list[Payment]]]:
    """Per loan, the dues its payments replay over and its standing payments (by id), read
    in a few queries for all loans at once; rescheduled loans go through `load_dues`."""
    ids = sorted(set(loan_ids))
    return decimal_inputs(session, ids, loan_rows(session, ids), last_reschedules(session, ids))


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


# What posting to one loan takes: cash account id and code, the (id, code) of its accounts
# for penalty, fee, interest and principal, memo, currency code.
_Account = tuple[int, str]
_LoanPosting = tuple[int, str, _Account, _Account, _Account, _Account, str, str]

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
    # Bulk posting makes hundreds of thousands of small tuples, next to no cycles: collecting
    # while it runs rescans the session's objects again and again for nothing, so it waits
    # until the batch is posted (or refused).
    with collection_paused(), sqlite_page_cache(session.connection(), BULK_CACHE_KIB):
        writer = ChainWriter(session)  # takes the chain lock and flushes pending ORM writes
        # (paid on, input) order: the sort is stable.
        order = sorted(range(len(payments)), key=[p.paid_on for p in payments].__getitem__)
        loan_ids = sorted({p.loan_id for p in payments})
        loans = loan_rows(session, loan_ids)
        rescheduled = last_reschedules(session, loan_ids)
        _check(loans, payments, today, rescheduled)
        _check_refs(session, payments)
        repayment_ids = reserve_ids(session, "repayment", len(payments))
        return _post(session, writer, actor, payments, progress, order, loans, rescheduled,
                     repayment_ids)


def _close(session: Session, closed: list[tuple[int, date]]) -> None:
    """Mark the loans closed, each on its date (loan id, closed on)."""
    ln = core_table("loan")
    if session.get_bind().dialect.name != "sqlite":
        session.execute(ln.update().where(ln.c.id == sa.bindparam("loan"))
                        .values(status="closed", closed_on=sa.bindparam("on")),
                        [{"loan": i, "on": on} for i, on in closed])
        return
    # The statement Core sends, straight to the driver's executemany with the dates bound as
    # Core binds them (as `RowWriter` does for inserts).
    day = RowWriter(session, "loan", ("closed_on",)).binder("closed_on")
    session.connection().exec_driver_sql(
        "UPDATE loan SET status=?, closed_on=? WHERE loan.id = ?",
        [("closed", day(on), i) for i, on in closed])


def _post(session: Session, writer: ChainWriter, actor: Actor, payments: Sequence[NewRepayment],
          progress: Progress | None, order: list[int], loans: dict[int, LoanRow],
          rescheduled: dict[int, date], repayment_ids: list[int]) -> BulkResult:
    """`post_repayments` once the batch is checked and its repayment ids reserved (in
    `order`): replay, chain, write."""
    rid = [0] * len(payments)
    per_loan: dict[int, list[NewPay]] = defaultdict(list)
    minors = [p.amount.minor for p in payments]
    for k, n in enumerate(order):
        p = payments[n]
        rid[n] = repayment_ids[k]
        per_loan[p.loan_id].append((n, rid[n], p.paid_on, minors[n], p.amount.amount))
    change = changes(session, per_loan, loans, rescheduled)

    at = utc_now()
    cash, income = _accounts(session, {loans[i].fund_id for i in sorted(loans)})
    # Per loan: its cash account (id, code), its accounts (id, code) for penalty, fee,
    # interest and principal, memo, and currency code (`_check` made every payment's
    # currency the loan's).
    posting: dict[int, _LoanPosting] = {}
    for i, loan in loans.items():
        accounts = income[loan.fund_id]
        posting[i] = (*cash[loan.fund_id], accounts["penalty"], accounts["fee"],
                      accounts["interest"], accounts["principal"],
                      f"Repayment on loan {loan.ref} from {loan.who}",
                      get_currency(loan.currency).code)
    entry_ids = reserve_ids(session, "journal_entry", len(payments))
    rows = RowWriter(session, "repayment", REPAYMENT_COLUMNS)
    day, stamp = rows.binder("paid_on"), rows.binder("created_at")(at)
    add, by = writer.add, actor.name
    closed: list[tuple[int, date]] = []
    for start in range(0, len(order), CHUNK):
        repayments: list[tuple[Any, ...]] = []
        for k in range(start, min(start + CHUNK, len(order))):
            n = order[k]
            p = payments[n]
            loan_id = p.loan_id
            credits, closed_on = change[n]
            cash_id, cash_code, penalty, fee, interest, principal, memo, currency = (
                posting[loan_id])
            minor = minors[n]
            lines: list[tuple[int, str, int, int | None, str | None]] = [
                (cash_id, cash_code, minor, loan_id, None)]
            # The credits in component order, those not zero (spelled out: once per entry).
            if credits[0]:
                lines.append((penalty[0], penalty[1], -credits[0], loan_id, "penalty"))
            if credits[1]:
                lines.append((fee[0], fee[1], -credits[1], loan_id, "fee"))
            if credits[2]:
                lines.append((interest[0], interest[1], -credits[2], loan_id, "interest"))
            if credits[3]:
                lines.append((principal[0], principal[1], -credits[3], loan_id, "principal"))
            add(entry_id=entry_ids[k], kind="repayment", occurred_on=p.paid_on,
                memo=memo + (f": {p.note}" if p.note else ""), by=by, at=at,
                loan_id=loan_id, currency=currency, lines=lines)
            repayments.append((rid[n], p.ref, loan_id, day(p.paid_on), minor, currency,
                               cash_id, p.received_by or by, p.note, entry_ids[k], stamp))
            if closed_on is not None:
                closed.append((loan_id, closed_on))
        writer.write()
        rows.write(repayments)
        if progress is not None:
            progress(min(start + CHUNK, len(order)), len(order))
    if closed:
        _close(session, closed)
        events = RowWriter(session, "loan_event", EVENT_COLUMNS)
        on_day, recorded = events.binder("occurred_on"), events.binder("recorded_at")(at)
        events.write([(i, "closed", "closed", on_day(on), actor.name, recorded, "fully repaid")
                      for i, on in closed])
    session.expire_all()  # loans changed underneath the identity map
    return BulkResult(tuple(rid), tuple(i for i, _ in closed))
