"""`fsf verify`: is every riel accounted for, and has nothing been edited behind the app's back?

Checks, in order: the hash chain and the balance of every entry (`ledger.chain`); the
repayment and reversal records against the journal entries they name (`ledger.verify_records`);
the portfolio accounts, loan by loan, against each loan's outstanding principal replayed from
its schedule and its standing repayments (`ledger.verify_portfolio`); the cash accounts
against the operational records (capital received, loans paid out, repayments, grants,
recoveries); cash never negative; and each account's day totals against its postings
(`ledger.verify_days`). Every check runs; the first broken one is named.

One streamed pass over the journal checks the chain and sums every posting for the other
checks, matching each repayment entry with its record on the way (`ledger.verify_records`;
two processes share a large journal, `ledger.verify_parts`); a second pass goes loan by loan
over the loan book (`ledger.verify_book`). Neither holds the
repayments: memory grows with the number of loans (the portfolio's sum per loan), not with
the journal.

Every statement reads one snapshot, so a posting committed while verify runs is either
wholly in it or wholly out (`_snapshot`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.chain import STREAM_BATCH, JournalScan
from ledger.cycles import collection_paused
from ledger.db.engine import BEGIN_OPTION
from ledger.verify_book import fmt_minor, loan_book, raw_connection, reversals
from ledger.verify_days import day_totals_problems
from ledger.verify_parts import journal_pass
from ledger.verify_portfolio import check_portfolio, replay_book
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
    cursor = raw_connection(session).cursor()
    try:
        cursor.execute("SELECT id, role FROM account")
        return {int(i): str(role) for i, role in cursor.fetchall()}
    finally:
        cursor.close()


def _totals(session: Session, table: str) -> dict[str, int]:
    cursor = raw_connection(session).cursor()
    try:
        cursor.execute(f"SELECT currency, sum(amount_minor) FROM {table} GROUP BY currency")
        return {str(c): int(t or 0) for c, t in cursor.fetchall()}
    finally:
        cursor.close()


def _expected_cash(session: Session, scan: JournalScan, roles: dict[int, str],
                   paid_out: dict[str, int], repaid: dict[str, int]) -> dict[str, int]:
    """Cash as the operational records say it should be: `paid_out` is the principal of the
    disbursed loans and `repaid` the standing repayments, per currency."""
    out: dict[str, int] = dict(_totals(session, "capital_receipt"))

    def add(currency: str, amount: int) -> None:
        out[currency] = out.get(currency, 0) + amount

    for currency, total in _totals(session, "grant_payment").items():
        add(currency, -total)
    for currency, amount in paid_out.items():
        add(currency, -amount)
    for currency, amount in repaid.items():
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


def _has_written(session: Session) -> bool:
    # PostgreSQL assigns a transaction id at its first write, and not before.
    if session.new or session.dirty or session.deleted:
        return True
    return session.execute(sa.text("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")
                           ).scalar() is not False


@contextmanager
def _snapshot(session: Session) -> Iterator[tuple[Session, bool]]:
    """A session whose statements all read one snapshot, and only read, and whether the
    transaction is verify's own (so another process may share its snapshot).

    PostgreSQL: a REPEATABLE READ READ ONLY transaction on a connection of its own (the
    caller's READ COMMITTED one takes a new snapshot per statement), unless the caller's
    transaction has written, when verify must read within it to see what it wrote. SQLite: a
    transaction is one snapshot already; one that verify begins is DEFERRED (no write lock)."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        if session.in_transaction():
            yield session, False
            return
        session.connection(execution_options={BEGIN_OPTION: "DEFERRED"})
        try:
            yield session, True
        finally:
            session.rollback()
        return
    if not isinstance(bind, sa.Engine) or (session.in_transaction() and _has_written(session)):
        yield session, False
        return
    with Session(bind) as own:
        own.connection(execution_options={"isolation_level": "REPEATABLE READ",
                                          "postgresql_readonly": True})
        try:
            yield own, True
        finally:
            own.rollback()


def verify_ledger(session: Session) -> VerifyReport:
    """Run every check on one snapshot of the ledger; reads only, so it can run beside
    writers (see `_snapshot`)."""
    with collection_paused(), _snapshot(session) as (reading, owned):
        return _verify(reading, owned)


def _verify(session: Session, owned: bool) -> VerifyReport:
    undone = reversals(session)
    reversed_ids = {r[1] for r in undone}
    scan, match, replayed = journal_pass(
        session, _KEPT, _FIRST_OF, STREAM_BATCH, owned,
        lambda: replay_book(loan_book(session, reversed_ids, STREAM_BATCH)))
    roles = _roles(session)
    checks = [_chain_check(scan)]

    problems, rows = record_problems(session, scan, match, [r[:4] for r in undone])
    checks.append(Check(
        "repayment records = their journal entries", not problems,
        _listed(problems) if problems else
        f"{rows} repayment and reversal records each match their entry"))
    # What the records say came in: every repayment, less those a reversal takes back.
    repaid = dict(match.totals)
    for _, _, _, repayment_entry, amount, currency in undone:
        if repayment_entry is not None and currency is not None and amount is not None:
            repaid[currency] = repaid.get(currency, 0) - amount

    booked: dict[tuple[int | None, str], int] = {}
    portfolio: dict[str, int] = {}
    cash: dict[str, int] = {}
    posted: dict[int, int] = {}
    for (account_id, currency, loan_id), amount in scan.sums.items():
        posted[account_id] = posted.get(account_id, 0) + amount
        role = roles.get(account_id)
        if role == "loan_portfolio":
            booked[(loan_id, currency)] = booked.get((loan_id, currency), 0) + amount
            portfolio[currency] = portfolio.get(currency, 0) + amount
        elif role in ("cash", "cash_box"):
            cash[currency] = cash.get(currency, 0) + amount
    scan.sums.clear()  # the portfolio's part is in `booked` now
    found = check_portfolio(session, replayed, booked,
                            lambda ids: loan_book(session, reversed_ids, STREAM_BATCH, ids))
    detail = (f"portfolio accounts {_fmt(portfolio)}; {found.replayed} loans replayed owe "
              f"{_fmt(found.owed)}")
    checks.append(Check("portfolio = Σ outstanding principal", not found.problems,
                        f"{detail}; {_listed(found.problems)}" if found.problems else detail))

    expected = _expected_cash(session, scan, roles, found.paid_out, repaid)
    checks.append(Check(
        "cash = capital + repayments + recoveries − loans − grants", _same(cash, expected),
        f"cash accounts {_fmt(cash)}; records say {_fmt(expected)}",
    ))
    negative = {k: v for k, v in cash.items() if v < 0}
    checks.append(Check("cash never below zero in total", not negative,
                        "no negative cash" if not negative else f"cash is {_fmt(negative)}"))
    stale = day_totals_problems(session, posted, scan.days)
    if stale is not None:
        checks.append(Check("day totals = the journal", not stale,
                            _listed(stale) if stale else
                            f"{len(posted)} accounts' day totals match their postings, in all and "
                            "day by day"))
    chain = scan.chain
    return VerifyReport(tuple(checks), chain.entries, chain.last_seq, chain.last_hash)
