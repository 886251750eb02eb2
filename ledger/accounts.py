"""The fund's chart of accounts, created idempotently, and lookups of accounts by role.

Account codes are derived from the fund code so that `ensure_chart` can run again safely:
`<FUND>.cash`, `<FUND>.cash.box<id>` (one per cash box, e.g. a village treasurer's),
`<FUND>.loans`, `<FUND>.income.interest`, `<FUND>.capital.<CONTRIBUTOR>` (one per contributor,
e.g. IOM or the provincial budget), `<FUND>.expense.grants`, and so on.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from ledger.db.tables import Account, CashBox, Fund
from ledger.money import get_currency

# session.info key of the account lookup cache; a rolled-back use case clears it.
ACCOUNT_CACHE = "fsf_account_cache"

__all__ = [
    "ACCOUNT_CACHE",
    "AccountNotFound",
    "AccountRole",
    "account_for",
    "ensure_capital_account",
    "ensure_cash_box",
    "ensure_chart",
    "prefetch_accounts",
]


class AccountRole(StrEnum):
    """What an account is used for by the services."""

    CASH = "cash"  # the fund's main cash (or bank) account
    CASH_BOX = "cash_box"  # cash held by one person for the fund
    LOAN_PORTFOLIO = "loan_portfolio"  # principal lent and not yet repaid
    INTEREST_INCOME = "interest_income"
    FEE_INCOME = "fee_income"
    PENALTY_INCOME = "penalty_income"
    RECOVERIES_INCOME = "recoveries_income"  # money recovered on written-off loans
    FUND_CAPITAL = "fund_capital"  # one per contributor
    GRANTS_EXPENSE = "grants_expense"  # non-repayable support: houses, school materials, bicycles
    LOAN_LOSS_EXPENSE = "loan_loss_expense"  # principal written off


# role -> (code suffix, kind, name); the chart every fund gets.
_BASE_CHART: dict[AccountRole, tuple[str, str, str]] = {
    AccountRole.CASH: ("cash", "asset", "Cash"),
    AccountRole.LOAN_PORTFOLIO: ("loans", "asset", "Loan portfolio"),
    AccountRole.INTEREST_INCOME: ("income.interest", "income", "Interest income"),
    AccountRole.FEE_INCOME: ("income.fees", "income", "Fee income"),
    AccountRole.PENALTY_INCOME: ("income.penalties", "income", "Penalty income"),
    AccountRole.RECOVERIES_INCOME: ("income.recoveries", "income", "Recoveries income"),
    AccountRole.GRANTS_EXPENSE: ("expense.grants", "expense", "Grants (non-repayable support)"),
    AccountRole.LOAN_LOSS_EXPENSE: ("expense.loan_losses", "expense", "Loan-loss expense"),
}


class AccountNotFound(LookupError):
    """No account plays the requested role; `ensure_chart` (or a more specific helper) makes it."""


def _ensure_account(
    session: Session,
    *,
    code: str,
    name: str,
    kind: str,
    role: AccountRole,
    fund: Fund,
    cash_box_id: int | None = None,
) -> Account:
    found = session.execute(sa.select(Account).where(col(Account.code) == code)).scalar()
    if found is not None:
        return found
    account = Account(
        code=code,
        name=name,
        kind=kind,
        role=role.value,
        fund_id=fund.id,
        cash_box_id=cash_box_id,
        currency=fund.currency,
    )
    session.add(account)
    session.flush()
    return account


def ensure_chart(
    session: Session, *, fund_code: str, currency: str, fund_name: str | None = None
) -> Fund:
    """Create the fund (if new) and its base chart of accounts; safe to run again. Flushes only.

    Capital accounts (one per contributor) and cash boxes are added by `ensure_capital_account`
    and `ensure_cash_box`.
    """
    code = get_currency(currency).code
    fund = session.execute(sa.select(Fund).where(col(Fund.code) == fund_code)).scalar()
    if fund is None:
        fund = Fund(code=fund_code, name=fund_name or fund_code, currency=code)
        session.add(fund)
        session.flush()
    elif fund.currency != code:
        raise ValueError(f"fund {fund_code} keeps {fund.currency}, not {code}")
    for role, (suffix, kind, name) in _BASE_CHART.items():
        _ensure_account(
            session, code=f"{fund_code}.{suffix}", name=name, kind=kind, role=role, fund=fund
        )
    return fund


def _fund(session: Session, fund_id: int) -> Fund:
    fund = session.get(Fund, fund_id)
    if fund is None:
        raise AccountNotFound(f"no fund with id {fund_id}")
    return fund


def ensure_capital_account(
    session: Session, *, fund_id: int, contributor: str, name: str | None = None
) -> Account:
    """The equity account holding one contributor's capital (e.g. "IOM"); created if new."""
    fund = _fund(session, fund_id)
    key = contributor.strip().upper().replace(" ", "_")
    if not key:
        raise ValueError("a capital account needs a contributor")
    return _ensure_account(
        session,
        code=f"{fund.code}.capital.{key}",
        name=name or f"Capital from {contributor.strip()}",
        kind="equity",
        role=AccountRole.FUND_CAPITAL,
        fund=fund,
    )


def ensure_cash_box(session: Session, *, fund_id: int, name: str, holder: str) -> CashBox:
    """A cash box held by someone (e.g. a village treasurer), with its cash account."""
    fund = _fund(session, fund_id)
    box = session.execute(
        sa.select(CashBox).where(col(CashBox.fund_id) == fund_id, col(CashBox.name) == name)
    ).scalar()
    if box is None:
        box = CashBox(fund_id=fund_id, name=name, holder=holder)
        session.add(box)
        session.flush()
    assert box.id is not None
    _ensure_account(
        session,
        code=f"{fund.code}.cash.box{box.id}",
        name=f"Cash held by {holder} ({name})",
        kind="asset",
        role=AccountRole.CASH_BOX,
        fund=fund,
        cash_box_id=box.id,
    )
    return box


def account_for(
    session: Session,
    role: AccountRole | str,
    *,
    fund_id: int,
    cash_box_id: int | None = None,
    contributor: str | None = None,
) -> Account:
    """The account playing `role` for a fund; a cash box's account needs `cash_box_id`, a
    capital account `contributor`. Raises `AccountNotFound`. Found accounts are remembered for
    the session (`ACCOUNT_CACHE`): accounts are never changed once made."""
    role = AccountRole(role)
    cache: dict[tuple[str, int, int | None, str | None], Account] = session.info.setdefault(
        ACCOUNT_CACHE, {}
    )
    cache_key = (role.value, fund_id, cash_box_id, contributor)
    if cache_key in cache:
        return cache[cache_key]
    query = sa.select(Account).where(
        col(Account.fund_id) == fund_id, col(Account.role) == role.value
    )
    if role is AccountRole.CASH_BOX:
        if cash_box_id is None:
            raise ValueError("the cash_box role needs cash_box_id")
        query = query.where(col(Account.cash_box_id) == cash_box_id)
    elif role is AccountRole.FUND_CAPITAL:
        if contributor is None:
            raise ValueError("the fund_capital role needs contributor")
        key = contributor.strip().upper().replace(" ", "_")
        query = query.where(col(Account.code).endswith(f".capital.{key}"))
    found = session.execute(query).scalars().first()
    if found is None:
        where = f"fund {fund_id}"
        if cash_box_id is not None:
            where += f", cash box {cash_box_id}"
        if contributor is not None:
            where += f", contributor {contributor}"
        raise AccountNotFound(f"no {role.value} account for {where}")
    cache[cache_key] = found
    return found


def prefetch_accounts(
    session: Session,
    roles: Iterable[AccountRole],
    *,
    fund_id: int,
    cash_box_id: int | None = None,
) -> None:
    """Load the accounts of several roles of one fund in one query into the `account_for`
    cache (a cash box's with `cash_box_id`). A role with no account, or with more than one,
    is left to `account_for`, which then answers (or raises) exactly as without this."""
    cache: dict[tuple[str, int, int | None, str | None], Account] = session.info.setdefault(
        ACCOUNT_CACHE, {}
    )

    def key(role: AccountRole) -> tuple[str, int, int | None, str | None]:
        return (role.value, fund_id, cash_box_id if role is AccountRole.CASH_BOX else None, None)

    wanted = {role for role in roles if key(role) not in cache}
    wanted.discard(AccountRole.FUND_CAPITAL)  # needs a contributor: `account_for` only
    if AccountRole.CASH_BOX in wanted and cash_box_id is None:
        wanted.discard(AccountRole.CASH_BOX)  # `account_for` raises the ValueError
    if not wanted:
        return
    plain = sorted(role.value for role in wanted if role is not AccountRole.CASH_BOX)
    which: sa.ColumnElement[bool] = col(Account.role).in_(plain)
    if AccountRole.CASH_BOX in wanted:
        which = sa.or_(which, sa.and_(col(Account.role) == AccountRole.CASH_BOX.value,
                                      col(Account.cash_box_id) == cash_box_id))
    found: dict[str, list[Account]] = {}
    for account in session.execute(
        sa.select(Account).where(col(Account.fund_id) == fund_id, which)
    ).scalars():
        found.setdefault(account.role, []).append(account)
    for role in wanted:
        rows = found.get(role.value, [])
        if len(rows) == 1:  # several would make `account_for`'s pick depend on row order
            cache[key(role)] = rows[0]
