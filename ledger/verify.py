"""`fsf verify`: is every riel accounted for, and has nothing been edited behind the app's back?

Checks, in order: the hash chain and the balance of every entry (`ledger.chain`); the portfolio
accounts against each loan's outstanding principal replayed from its schedule and its standing
repayments; the cash accounts against the operational records (capital received, loans paid
out, repayments, grants, recoveries). The first broken check is named.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.allocation import Payment, allocate
from ledger.chain import verify_chain
from ledger.db.tables import core_table
from ledger.money import Money, get_currency
from ledger.services.loan_book import compose_dues, schedule_versions

__all__ = ["Check", "VerifyReport", "verify_ledger"]


@dataclass(frozen=True, slots=True)
class Check:
    """One verification: what was checked, whether it held, and the figures behind it."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """All checks run, the number of entries, and the hash of the last one (to tie exports)."""

    checks: tuple[Check, ...]
    entries: int
    last_seq: int | None
    last_hash: str

    @property
    def ok(self) -> bool:
        """True when every check held."""
        return all(c.ok for c in self.checks)

    @property
    def first_failure(self) -> Check | None:
        """The first check that failed, if any."""
        return next((c for c in self.checks if not c.ok), None)


def _sum_by(session: Session, query: sa.Select[Any]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for currency, total in session.execute(query).all():
        out[str(currency)] += int(total or 0)
    return out


def _role_balance(session: Session, roles: tuple[str, ...]) -> dict[str, int]:
    post, acct = core_table("posting"), core_table("account")
    return _sum_by(session, sa.select(post.c.currency, sa.func.sum(post.c.amount_minor))
                   .join(acct, acct.c.id == post.c.account_id)
                   .where(acct.c.role.in_(roles)).group_by(post.c.currency))


def _replayed_outstanding(session: Session) -> tuple[dict[str, int], int]:
    """Σ outstanding principal of disbursed, not written-off loans, replayed from schedules
    (reschedules included) and standing repayments; loads everything in a few queries."""
    loan, rp, rr = core_table("loan"), core_table("repayment"), core_table("repayment_reversal")
    loans = session.execute(
        sa.select(loan.c.id, loan.c.currency)
        .where(loan.c.disbursed_on.is_not(None), loan.c.status != "written_off")
    ).all()
    payments: dict[int, list[Payment]] = defaultdict(list)
    for loan_id, pid, paid_on, amount, currency in session.execute(
        sa.select(rp.c.loan_id, rp.c.id, rp.c.paid_on, rp.c.amount_minor, rp.c.currency)
        .where(~sa.exists().where(rr.c.repayment_id == rp.c.id))
        .order_by(rp.c.loan_id, rp.c.paid_on, rp.c.id)
    ):
        payments[int(loan_id)].append(
            Payment(int(pid), paid_on, Money.from_minor(int(amount), str(currency)).amount))
    versions = schedule_versions(session)
    totals: dict[str, int] = defaultdict(int)
    for loan_id, currency in loans:
        pays = tuple(payments.get(int(loan_id), ()))
        dues = compose_dues(versions.get(int(loan_id), []), pays)
        state = allocate(dues, pays, strict=False)
        totals[str(currency)] += Money(state.outstanding_principal, get_currency(currency)).minor
    return totals, len(loans)


def _expected_cash(session: Session) -> dict[str, int]:
    """Cash as the operational records say it should be."""
    cap, gp = core_table("capital_receipt"), core_table("grant_payment")
    loan, rp, rr = core_table("loan"), core_table("repayment"), core_table("repayment_reversal")
    je, post, acct = core_table("journal_entry"), core_table("posting"), core_table("account")
    out: dict[str, int] = defaultdict(int)
    for source, sign in (
        (sa.select(cap.c.currency, sa.func.sum(cap.c.amount_minor)).group_by(cap.c.currency), 1),
        (sa.select(gp.c.currency, sa.func.sum(gp.c.amount_minor)).group_by(gp.c.currency), -1),
        (sa.select(loan.c.currency, sa.func.sum(loan.c.principal_minor))
         .where(loan.c.disbursed_on.is_not(None)).group_by(loan.c.currency), -1),
        (sa.select(rp.c.currency, sa.func.sum(rp.c.amount_minor))
         .where(~sa.exists().where(rr.c.repayment_id == rp.c.id)).group_by(rp.c.currency), 1),
        (sa.select(post.c.currency, -sa.func.sum(post.c.amount_minor))
         .join(je, je.c.id == post.c.entry_id).join(acct, acct.c.id == post.c.account_id)
         .where(je.c.kind == "recovery", acct.c.role == "recoveries_income")
         .group_by(post.c.currency), 1),
    ):
        for currency, total in _sum_by(session, source).items():
            out[currency] += sign * total
    return out


def _fmt(amounts: dict[str, int]) -> str:
    if not amounts:
        return "nothing"
    return ", ".join(str(Money.from_minor(v, k)) for k, v in sorted(amounts.items()))


def _same(a: dict[str, int], b: dict[str, int]) -> bool:
    keys = set(a) | set(b)
    return all(a.get(k, 0) == b.get(k, 0) for k in keys)


def verify_ledger(session: Session) -> VerifyReport:
    """Run every check; reads only, so it can run on a read-only session beside writers."""
    chain = verify_chain(session)
    checks = [Check(
        "hash chain and balanced entries", chain.ok,
        f"{chain.entries} entries, last seq {chain.last_seq}, each balanced and hashed"
        if chain.ok else
        f"entry {chain.broken.seq} (id {chain.broken.entry_id}): {chain.broken.reason}"
        if chain.broken else "broken",
    )]
    portfolio = _role_balance(session, ("loan_portfolio",))
    outstanding, count = _replayed_outstanding(session)
    checks.append(Check(
        "portfolio = Σ outstanding principal", _same(portfolio, outstanding),
        f"portfolio accounts {_fmt(portfolio)}; {count} loans replayed owe {_fmt(outstanding)}",
    ))
    cash = _role_balance(session, ("cash", "cash_box"))
    expected = _expected_cash(session)
    checks.append(Check(
        "cash = capital + repayments + recoveries − loans − grants", _same(cash, expected),
        f"cash accounts {_fmt(cash)}; records say {_fmt(expected)}",
    ))
    negative = {k: v for k, v in cash.items() if v < 0}
    checks.append(Check("cash never below zero in total", not negative,
                        "no negative cash" if not negative else f"cash is {_fmt(negative)}"))
    return VerifyReport(tuple(checks), chain.entries, chain.last_seq, chain.last_hash)

