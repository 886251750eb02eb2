"""The fund's position as of a day: what came in, where the cash is, what is lent out, what it
earned and lost — and the erosion of the capital.

Capital, cash, income, grants and write-offs are journal balances (postings of entries dated up
to the day). The portfolio is the loans' outstanding principal as the portfolio report measures
it; the performing portfolio leaves out PAR30 (renegotiated loans included). Erosion =
(capital − cash − performing portfolio) ÷ capital: the share of the capital neither in hand nor
in loans that are being repaid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.actor import Actor, Permission, WholeFundOnly
from ledger.day_totals import account_day_sum
from ledger.db.tables import core_table
from ledger.money import Money, get_currency
from ledger.reports.portfolio import portfolio_totals
from ledger.reports.scope import Ratio, loan_filters, minor, money, ratio
from ledger.services.funds import find_fund
from ledger.services.setup import DEFAULT_FUND

__all__ = ["CashLine", "FundPosition", "fund_position"]


@dataclass(frozen=True, slots=True)
class CashLine:
    """Cash held in one place: the fund's main cash or a cash box (`holder` None for main)."""

    account: str
    name: str
    holder: str | None
    balance: Money


@dataclass(frozen=True, slots=True)
class FundPosition:
    """The fund position report; every amount in the fund's currency."""

    as_of: date
    fund: str
    currency: str
    capital: Money
    capital_by_contributor: tuple[tuple[str, Money], ...]
    cash: Money
    cash_lines: tuple[CashLine, ...]
    portfolio: Money
    portfolio_in_books: Money
    performing_portfolio: Money
    interest_earned: Money
    fees_earned: Money
    recoveries: Money
    grants_paid: Money
    written_off: Money
    erosion: Ratio


def fund_position(session: Session, *, actor: Actor, as_of: date,
                  fund_code: str = DEFAULT_FUND) -> FundPosition:
    """The position of one fund at the end of `as_of` (the whole fund: not for an actor
    limited to some villages)."""
    actor.require(Permission.READ)
    if actor.villages is not None:
        raise WholeFundOnly(actor, "the fund position")
    fund = find_fund(session, fund_code)
    cur = get_currency(fund.currency)
    acct, box = core_table("account"), core_table("cash_box")
    # From the day totals (`ledger.day_totals`): at a million loans the postings themselves
    # took 24-31 s to sum.
    moves = account_day_sum(sa.select(acct.c.id).where(acct.c.fund_id == fund.id),
                            as_of).subquery("moves")
    rows = session.execute(
        sa.select(acct.c.code, acct.c.name, acct.c.role, box.c.holder,
                  sa.func.coalesce(moves.c.balance, 0).label("balance"))
        .select_from(acct.outerjoin(box, box.c.id == acct.c.cash_box_id)
                     .outerjoin(moves, moves.c.account_id == acct.c.id))
        .where(acct.c.fund_id == fund.id)
        .order_by(acct.c.code)
    ).all()

    def total(*roles: str) -> int:
        return sum(minor(r.balance) for r in rows if r.role in roles)

    capital = -total("fund_capital")
    cash_lines = tuple(CashLine(r.code, r.name, r.holder, money(r.balance, cur))
                       for r in rows if r.role in ("cash", "cash_box"))
    cash = total("cash", "cash_box")
    where = [*loan_filters(actor, currency=cur.code), core_table("loan").c.fund_id == fund.id]
    totals = portfolio_totals(session, as_of=as_of, where=where, currency=cur.code)
    par30 = next(p for p in totals.par if p.threshold == 30)
    performing = totals.gross.amount - par30.value.amount
    return FundPosition(
        as_of=as_of, fund=fund.code, currency=cur.code, capital=money(capital, cur),
        capital_by_contributor=tuple((r.name, money(-minor(r.balance), cur)) for r in rows
                                     if r.role == "fund_capital"),
        cash=money(cash, cur), cash_lines=cash_lines, portfolio=totals.gross,
        portfolio_in_books=money(total("loan_portfolio"), cur),
        performing_portfolio=Money(performing, cur),
        interest_earned=money(-total("interest_income"), cur),
        fees_earned=money(-total("fee_income", "penalty_income"), cur),
        recoveries=money(-total("recoveries_income"), cur),
        grants_paid=money(total("grants_expense"), cur),
        written_off=money(total("loan_loss_expense"), cur),
        erosion=ratio(capital - cash - Money(performing, cur).minor, capital))
