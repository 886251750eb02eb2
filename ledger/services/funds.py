"""Funds and their cash: opening a fund, capital received, grants paid, cash moved between boxes.

Each is one journal entry like any other money event, plus a row that says what it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from ledger.accounts import AccountRole, account_for, ensure_capital_account, ensure_chart
from ledger.actor import Actor, Permission
from ledger.db.tables import Account, Family, Fund
from ledger.db.tables.fund_events import CapitalReceipt, GrantPayment
from ledger.journal import Line, balance, post_entry
from ledger.money import Money, format_amount, get_currency
from ledger.services.errors import Conflict, NotFound, ServiceError
from ledger.services.unit import transactional, use_case

__all__ = [
    "GRANT_PURPOSES",
    "ForeignAmount",
    "find_fund",
    "open_fund",
    "pay_grant",
    "receive_capital",
    "transfer_cash",
]

GRANT_PURPOSES = ("house-building", "school-support", "school-materials", "bicycle", "other")


@dataclass(frozen=True, slots=True)
class ForeignAmount:
    """What a contributor actually sent (e.g. US$5,000.00) and the riel-per-unit rate used."""

    amount: Money
    rate: Decimal


def find_fund(session: Session, code: str) -> Fund:
    """The fund with this code, or NotFound."""
    fund = session.execute(sa.select(Fund).where(col(Fund.code) == code)).scalars().first()
    if fund is None:
        raise NotFound(f"{code!r} is not a fund in this ledger", field="fund")
    return fund


@transactional
def open_fund(
    session: Session, *, actor: Actor, code: str, name: str, currency: str = "KHR"
) -> Fund:
    """Create a fund with its whole chart of accounts (idempotent for the same code)."""
    actor.require(Permission.MANAGE_FUNDS)
    get_currency(currency)
    with use_case(session):
        fund = ensure_chart(session, fund_code=code, currency=currency, fund_name=name)
    return fund


def _unique_ref(session: Session, model: type[CapitalReceipt] | type[GrantPayment],
                ref: str) -> None:
    if session.execute(sa.select(col(model.id)).where(col(model.ref) == ref)).first():
        raise Conflict(f"{ref!r} is already in the ledger", field="ref")


@transactional
def receive_capital(
    session: Session,
    *,
    actor: Actor,
    fund_code: str,
    ref: str,
    contributor: str,
    amount: Money,
    received_on: date,
    memo: str = "",
    foreign: ForeignAmount | None = None,
) -> CapitalReceipt:
    """Record capital received into the fund's cash: cash debit, the contributor's capital
    credit. A foreign amount must convert to the riel amount at the stated rate."""
    actor.require(Permission.MANAGE_FUNDS)
    fund = find_fund(session, fund_code)
    if amount.currency.code != fund.currency:
        raise ServiceError(f"the fund keeps {fund.currency}, not {amount.currency}",
                           field="amount")
    if amount.amount <= 0:
        raise ServiceError("capital received must be more than zero", field="amount")
    if foreign is not None:
        converted = foreign.amount.amount * foreign.rate
        if converted != amount.amount:
            raise ServiceError(
                f"{foreign.amount} at {foreign.rate} is {format_amount(converted, amount.currency)}"
                f", not {amount}", field="amount")
    _unique_ref(session, CapitalReceipt, ref)
    assert fund.id is not None
    with use_case(session):
        capital = ensure_capital_account(session, fund_id=fund.id, contributor=contributor)
        cash = account_for(session, AccountRole.CASH, fund_id=fund.id)
        assert cash.id is not None and capital.id is not None
        why = memo or f"Capital from {contributor}"
        if foreign is not None:
            why += f" ({foreign.amount} at {foreign.rate} {amount.currency.code} each)"
        entry = post_entry(session, kind="capital", occurred_on=received_on, memo=why,
                           by=actor.name, lines=[Line(cash.id, amount), Line(capital.id, -amount)])
        assert entry.id is not None
        row = CapitalReceipt(
            ref=ref, entry_id=entry.id, fund_id=fund.id, contributor=contributor,
            received_on=received_on, amount_minor=amount.minor, currency=amount.currency.code,
            foreign_amount_minor=foreign.amount.minor if foreign else None,
            foreign_currency=foreign.amount.currency.code if foreign else None,
            rate=foreign.rate if foreign else None,
        )
        session.add(row)
        session.flush()
    return row


def _cash_account(session: Session, fund: Fund, cash_box_id: int | None) -> Account:
    assert fund.id is not None
    if cash_box_id is None:
        return account_for(session, AccountRole.CASH, fund_id=fund.id)
    return account_for(session, AccountRole.CASH_BOX, fund_id=fund.id, cash_box_id=cash_box_id)


@transactional
def pay_grant(
    session: Session,
    *,
    actor: Actor,
    fund_code: str,
    ref: str,
    purpose: str,
    amount: Money,
    paid_on: date,
    family_id: int | None = None,
    memo: str = "",
    cash_box_id: int | None = None,
) -> GrantPayment:
    """Pay non-repayable support (house building, school materials, bicycles): grants expense
    debit, cash credit. Refused when the cash is not there."""
    actor.require(Permission.PAY_GRANTS)
    if purpose not in GRANT_PURPOSES:
        raise ServiceError(f"{purpose!r} is not one of {', '.join(GRANT_PURPOSES)}",
                           field="purpose")
    if amount.amount <= 0:
        raise ServiceError("a grant must be more than zero", field="amount")
    if family_id is not None and session.get(Family, family_id) is None:
        raise NotFound(f"family id {family_id} is not in this ledger", field="family")
    fund = find_fund(session, fund_code)
    _unique_ref(session, GrantPayment, ref)
    assert fund.id is not None
    cash = _cash_account(session, fund, cash_box_id)
    _require_cash(session, cash, amount, paid_on)
    with use_case(session):
        expense = account_for(session, AccountRole.GRANTS_EXPENSE, fund_id=fund.id)
        assert cash.id is not None and expense.id is not None
        entry = post_entry(session, kind="grant", occurred_on=paid_on,
                           memo=memo or f"Grant: {purpose}", by=actor.name,
                           lines=[Line(expense.id, amount), Line(cash.id, -amount)])
        assert entry.id is not None
        row = GrantPayment(ref=ref, entry_id=entry.id, fund_id=fund.id, purpose=purpose,
                           family_id=family_id, paid_on=paid_on, amount_minor=amount.minor,
                           currency=amount.currency.code)
        session.add(row)
        session.flush()
    return row


def _require_cash(session: Session, cash: Account, amount: Money, on: date) -> None:

    assert cash.id is not None
    held = balance(session, cash.id, as_of=on)
    if held < amount:
        raise ServiceError(f"{cash.name} holds {held} on {on}, less than {amount}",
                           field="amount")


@transactional
def transfer_cash(
    session: Session,
    *,
    actor: Actor,
    fund_code: str,
    amount: Money,
    on: date,
    from_box: int | None,
    to_box: int | None,
    memo: str,
) -> int:
    """Move cash between the fund's main cash and a cash box (or between boxes)."""
    actor.require(Permission.MANAGE_FUNDS)
    if from_box == to_box:
        raise ServiceError("a transfer needs two different cash accounts", field="to_box")
    fund = find_fund(session, fund_code)
    source, target = _cash_account(session, fund, from_box), _cash_account(session, fund, to_box)
    _require_cash(session, source, amount, on)
    assert source.id is not None and target.id is not None
    with use_case(session):
        entry = post_entry(session, kind="transfer", occurred_on=on, memo=memo or "Cash transfer",
                           by=actor.name, lines=[Line(target.id, amount), Line(source.id, -amount)])
    assert entry.id is not None
    return entry.id
