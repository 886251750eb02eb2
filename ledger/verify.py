"""`fsf verify`: is every riel accounted for, and has nothing been edited behind the app's back?

Checks, in order: the hash chain and the balance of every entry (`ledger.chain`); the
repayment and reversal records against the journal entries they name (`ledger.verify_records`);
the portfolio accounts, loan by loan, against each loan's outstanding principal replayed from
its schedule and its standing repayments (`ledger.verify_portfolio`); the cash accounts
against the operational records (capital received, loans paid out, repayments, grants,
recoveries); and cash never negative. Every check runs; the first broken one is named.

One streamed pass over the journal checks the chain and sums every posting for the other
checks; the loan book is read in one query per table (`ledger.verify_book`).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ledger.chain import JournalScan, scan_journal
from ledger.verify_book import Book, fmt_minor, load_book
from ledger.verify_portfolio import check_portfolio
from ledger.verify_records import record_problems

__all__ = ["Check", "VerifyReport", "verify_ledger"]

# Problems spelled out in a failed check's detail; the rest are counted.
SHOWN = 3
# Entry kinds the scan keeps for the checks against the records.
_KEPT = frozenset({"reversal", "recovery"})
_FIRST_OF = frozenset({"repayment"})


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


def _fmt(amounts: dict[str, int]) -> str:
    if not amounts:
        return "nothing"
    return ", ".join(fmt_minor(v, k) for k, v in sorted(amounts.items()))


def _same(a: dict[str, int], b: dict[str, int]) -> bool:
    keys = set(a) | set(b)
    return all(a.get(k, 0) == b.get(k, 0) for k in keys)


def _listed(problems: list[str] | tuple[str, ...]) -> str:
    more = len(problems) - SHOWN
    return "; ".join(problems[:SHOWN]) + (f"; and {more} more" if more > 0 else "")


def _roles(session: Session) -> dict[int, str]:
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        cursor.execute("SELECT id, role FROM account")
        return {int(i): str(role) for i, role in cursor.fetchall()}
    finally:
        cursor.close()


def _totals(session: Session, table: str) -> dict[str, int]:
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        cursor.execute(f"SELECT currency, sum(amount_minor) FROM {table} GROUP BY currency")
        return {str(c): int(t or 0) for c, t in cursor.fetchall()}
    finally:
        cursor.close()


def _expected_cash(session: Session, scan: JournalScan, book: Book,
                   roles: dict[int, str]) -> dict[str, int]:
    """Cash as the operational records say it should be."""
    out: dict[str, int] = dict(_totals(session, "capital_receipt"))

    def add(currency: str, amount: int) -> None:
        out[currency] = out.get(currency, 0) + amount

    for currency, total in _totals(session, "grant_payment").items():
        add(currency, -total)
    for loan in book.loans.values():
        if loan.disbursed:
            add(loan.currency, -loan.principal_minor)
    for currency, amount in book.standing_total.items():
        add(currency, amount)
    for _, kind, _, _, _, postings in scan.kept.values():
        if kind == "recovery":
            for _, account_id, currency, amount, _, _ in postings:
                if roles.get(account_id) == "recoveries_income":
                    add(currency, -amount)
    return out


def _chain_check(scan: JournalScan) -> Check:
    chain = scan.chain
    broken = chain.broken
    if broken is None:
        detail = f"{chain.entries} entries, last seq {chain.last_seq}, each balanced and hashed"
    elif broken.seq == 0:
        detail = broken.reason
    else:
        detail = f"entry {broken.seq} (id {broken.entry_id}): {broken.reason}"
    return Check("hash chain and balanced entries", chain.ok, detail)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    # Verify makes a few hundred thousand tuples that all stay alive to the end; the cyclic
    # collector would walk them again and again (about a tenth of the time) and find nothing.
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def verify_ledger(session: Session) -> VerifyReport:
    """Run every check; reads only, so it can run on a read-only session beside writers."""
    with _no_cycle_collection():
        return _verify(session)


def _verify(session: Session) -> VerifyReport:
    scan = scan_journal(session, _KEPT, _FIRST_OF)
    roles = _roles(session)
    book = load_book(session)
    checks = [_chain_check(scan)]

    problems, rows = record_problems(session, scan, book)
    checks.append(Check(
        "repayment records = their journal entries", not problems,
        _listed(problems) if problems else
        f"{rows} repayment and reversal records each match their entry"))

    booked: dict[tuple[int | None, str], int] = {}
    portfolio: dict[str, int] = {}
    cash: dict[str, int] = {}
    for (account_id, currency, loan_id), amount in scan.sums.items():
        role = roles.get(account_id)
        if role == "loan_portfolio":
            booked[(loan_id, currency)] = booked.get((loan_id, currency), 0) + amount
            portfolio[currency] = portfolio.get(currency, 0) + amount
        elif role in ("cash", "cash_box"):
            cash[currency] = cash.get(currency, 0) + amount
    found = check_portfolio(session, book, booked)
    detail = (f"portfolio accounts {_fmt(portfolio)}; {found.replayed} loans replayed owe "
              f"{_fmt(found.owed)}")
    checks.append(Check("portfolio = Σ outstanding principal", not found.problems,
                        f"{detail}; {_listed(found.problems)}" if found.problems else detail))

    expected = _expected_cash(session, scan, book, roles)
    checks.append(Check(
        "cash = capital + repayments + recoveries − loans − grants", _same(cash, expected),
        f"cash accounts {_fmt(cash)}; records say {_fmt(expected)}",
    ))
    negative = {k: v for k, v in cash.items() if v < 0}
    checks.append(Check("cash never below zero in total", not negative,
                        "no negative cash" if not negative else f"cash is {_fmt(negative)}"))
    chain = scan.chain
    return VerifyReport(tuple(checks), chain.entries, chain.last_seq, chain.last_hash)
