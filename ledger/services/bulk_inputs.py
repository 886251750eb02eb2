"""What bulk posting reads of many loans at once, as plain integers, dates and texts.

The same rows `ledger.services.loan_book`'s batched readers read (first schedules, standing
payments, what the journal booked), fetched with the database driver's own cursor
(`ledger.services.driver`): for thousands of loans SQLAlchemy's per-row result processing
costs more than the queries. Amounts stay integer minor units
(`ledger.allocation_minor` replays them); dates are parsed once per distinct value.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from itertools import groupby
from operator import itemgetter

from sqlalchemy.orm import Session

from ledger.allocation_minor import MinorDue
from ledger.services.driver import Dates, driver_rows
from ledger.services.loan_book import BOOKED_KINDS

__all__ = ["LoanFacts", "StandingTotals", "booked_minor", "booked_sql",
           "loan_facts", "minor_payments", "minor_schedules", "standing_sql",
           "standing_totals"]

_FIRST = itemgetter(0)
# A batch's loans as PostgreSQL's lateral lookups start from them (`standing_sql`, `booked_sql`).
_LOANS = "FROM (SELECT id FROM loan WHERE id {values}) l "
# The standing (not reversed) repayments of a batch of loans.
_STANDING = ("FROM repayment rp WHERE rp.loan_id {values} AND NOT EXISTS "
             "(SELECT 1 FROM repayment_reversal rr WHERE rr.repayment_id = rp.id) ")

# Per loan: id, ref, status, currency, fund id, disbursed on, borrower's name.
LoanFacts = tuple[int, str, str, str, int, date | None, str]


def loan_facts(session: Session, ids: Sequence[int]) -> dict[int, LoanFacts]:
    """The loans named (those in the ledger), with what posting to them needs."""
    days = Dates()
    out: dict[int, LoanFacts] = {}
    for i, ref, status, currency, fund, disbursed, latin, name in driver_rows(session, (
            "SELECT l.id, l.ref, l.status, l.currency, l.fund_id, l.disbursed_on, "
            "f.head_name_latin, f.head_name FROM loan l JOIN family f ON f.id = l.family_id "
            "WHERE l.id {values}"), ids):
        out[int(i)] = (int(i), str(ref), str(status), str(currency), int(fund),
                       None if disbursed is None else days[disbursed], str(latin or name))
    return out


def minor_schedules(session: Session, ids: Sequence[int]) -> dict[int, list[MinorDue]]:
    """Each loan's first schedule (version 1): its dues in installment order (the schedule's
    numbers are unique, so that order is strict)."""
    days = Dates()
    out: dict[int, list[MinorDue]] = {}
    for loan_id, rows in groupby(driver_rows(session, (
            "SELECT ls.loan_id, si.due_date, si.penalty_minor, si.fee_minor, "
            "si.interest_minor, si.principal_minor FROM loan_schedule ls "
            "JOIN schedule_installment si ON si.schedule_id = ls.id "
            "WHERE ls.loan_id {values} AND ls.version = 1 ORDER BY ls.loan_id, si.number"),
            ids), _FIRST):
        out[loan_id] = [(days[d], p, f, i, r) for _, d, p, f, i, r in rows]
    return out


def minor_payments(session: Session, ids: Sequence[int]
                   ) -> dict[int, list[tuple[int, date, int, str]]]:
    """Each loan's standing (not reversed) repayments in replay order: (id, paid on, minor
    units, currency)."""
    days = Dates()
    out: dict[int, list[tuple[int, date, int, str]]] = {}
    sql = standing_sql(session.get_bind().dialect.name, ordered=True)
    for loan_id, rows in groupby(driver_rows(session, sql, ids), _FIRST):
        out[loan_id] = [(pid, days[d], amount, currency) for _, pid, d, amount, currency in rows]
    return out


# Per loan with standing payments: their sum, smallest and largest amount in minor units, the
# last date paid, and the smallest and largest currency code.
StandingTotals = tuple[int, int, int, date, str, str]
_TOTALS = ("SELECT rp.loan_id, SUM(rp.amount_minor), MIN(rp.amount_minor), "
           "MAX(rp.amount_minor), MAX(rp.paid_on), MIN(rp.currency), MAX(rp.currency) ")
# Both forms read the repayment index alone (migration 0009): no row of the table is visited.
# PostgreSQL reads each loan's payments from that index loan by loan (a fenced lateral, as
# `booked_sql`), then drops the reversed ones. Left to the statistics, a 1M ledger whose
# repayments had come in faster than ANALYZE saw estimated 243 payments a loan instead of 8,
# and scanned the whole repayment table with parallel workers: 9 s a batch of 5,000 loans
# (`bench/RESULTS.md`). The reversal test stays outside the fence, so that it is planned
# once for the batch and never becomes a scan of the reversals per loan.
_STANDING_PG = (f"{_LOANS}CROSS JOIN LATERAL "
                "(SELECT rp.id, rp.loan_id, rp.paid_on, rp.amount_minor, rp.currency "
                "FROM repayment rp WHERE rp.loan_id = l.id OFFSET 0) rp WHERE NOT EXISTS "
                "(SELECT 1 FROM repayment_reversal rr WHERE rr.repayment_id = rp.id) ")


def standing_sql(dialect: str, ordered: bool = False) -> str:
    """The standing payments of a batch of loans as `dialect` reads them best: summed per
    loan (`standing_totals`), or each one in replay order (`minor_payments`, `ordered`)."""
    source = _STANDING_PG if dialect == "postgresql" else _STANDING
    if ordered:
        return ("SELECT rp.loan_id, rp.id, rp.paid_on, rp.amount_minor, rp.currency "
                f"{source}ORDER BY rp.loan_id, rp.paid_on, rp.id")
    return f"{_TOTALS}{source}GROUP BY rp.loan_id"


def standing_totals(session: Session, ids: Sequence[int]) -> dict[int, StandingTotals]:
    """What `minor_payments` gives, summed up per loan: for a loan whose standing payments
    are all plain fills, all its replay needs of them (`MinorReplay.fill_all`)."""
    days = Dates()
    out: dict[int, StandingTotals] = {}
    for loan_id, total, low, high, last, first_cur, last_cur in driver_rows(
            session, standing_sql(session.get_bind().dialect.name), ids):
        out[int(loan_id)] = (int(total), int(low), int(high), days[last], str(first_cur),
                             str(last_cur))
    return out


# What the journal booked on a batch of loans, in two parts on the same rows: every component
# posting on the loans' non-cash accounts, read from the posting index alone (migration 0010),
# less those of entries that book no repayment (a disbursement, a write-off, a reversal of
# either), found by kind in the journal's loan index. A loan has one or two of those against
# many repayments, so this visits a few entries instead of every posting's.
_NOT_CASH = "a.role != 'cash' AND a.role != 'cash_box'"
_KINDS = ", ".join(f"'{k}'" for k in BOOKED_KINDS)
_SUMS = "SELECT p.loan_id, p.component, p.currency, SUM(p.amount_minor) "
_GROUPS = "GROUP BY p.loan_id, p.component, p.currency"
# On SQLite, CROSS JOIN keeps the loans' entries first, and the unary `+`s leave the entries'
# own postings to be found by entry (two or so each) instead of by loan and component, which
# went through every posting of the loan again for each such entry: at 1M, 5,000 loans,
# 13.0-14.0 -> 9.0-9.8 ms.
_SQLITE = (
    f"{_SUMS}FROM posting p JOIN account a ON a.id = p.account_id "
    f"WHERE p.loan_id {{values}} AND p.component IS NOT NULL AND {_NOT_CASH} {_GROUPS}",
    f"{_SUMS}FROM journal_entry je CROSS JOIN posting p JOIN account a ON a.id = p.account_id "
    f"WHERE je.loan_id {{values}} AND je.kind NOT IN ({_KINDS}) AND p.entry_id = je.id "
    f"AND +p.loan_id = je.loan_id AND +p.component IS NOT NULL AND {_NOT_CASH} "
    "AND NOT (je.kind = 'reversal' AND EXISTS (SELECT 1 FROM journal_entry orig "
    f"WHERE orig.id = je.reverses_id AND orig.kind IN ({_KINDS}))) {_GROUPS}")
# PostgreSQL goes loan by loan: each subquery is fenced (OFFSET 0) so that it stays a lookup
# per loan. Left to the statistics, a 1M ledger whose repayments had come in faster than
# ANALYZE saw estimated 960 entries a loan instead of 9, and hashed the whole posting table
# (9.2 s for 5,000 loans; `bench/RESULTS.md`).
_POSTINGS = ("CROSS JOIN LATERAL (SELECT p.loan_id, p.component, p.currency, p.amount_minor, "
             "p.account_id FROM posting p WHERE p.loan_id = l.id AND p.component IS NOT NULL")
_POSTGRESQL = (
    f"{_SUMS}{_LOANS}{_POSTINGS} OFFSET 0) p JOIN account a ON a.id = p.account_id "
    f"WHERE {_NOT_CASH} {_GROUPS}",
    f"{_SUMS}{_LOANS}CROSS JOIN LATERAL (SELECT je.id FROM journal_entry je "
    "LEFT JOIN journal_entry orig ON orig.id = je.reverses_id "
    f"WHERE je.loan_id = l.id AND je.kind NOT IN ({_KINDS}) AND (je.kind != 'reversal' "
    f"OR orig.kind NOT IN ({_KINDS})) OFFSET 0) je {_POSTINGS} AND p.entry_id = je.id "
    f"OFFSET 0) p JOIN account a ON a.id = p.account_id WHERE {_NOT_CASH} {_GROUPS}")


def booked_sql(dialect: str) -> tuple[str, str]:
    """The two queries `booked_minor` subtracts, every component posting of the loans and
    those of their entries that book no repayment, as `dialect` runs them best."""
    return _POSTGRESQL if dialect == "postgresql" else _SQLITE


def booked_minor(session: Session, ids: Sequence[int]) -> dict[int, list[tuple[str, str, int]]]:
    """`loan_book.booked_parts` of many loans, as the journal's own sums: per loan,
    (component, currency, credits in minor units) of repayment and reallocation entries and
    of the reversals of those entries, on the loan's non-cash accounts. It relies on every
    posting to a loan being in an entry of that loan, which `ledger.journal` enforces."""
    every, not_booked = booked_sql(session.get_bind().dialect.name)
    # The few sums to take off first, then one pass over the many (both drivers give ints and
    # strs for the keys; PostgreSQL's SUM of a bigint is a numeric, hence int() of totals).
    less = {(loan_id, component, currency): int(total)
            for loan_id, component, currency, total in driver_rows(session, not_booked, ids)}
    out: dict[int, list[tuple[str, str, int]]] = {}
    for loan_id, component, currency, total in driver_rows(session, every, ids):
        total = int(total)
        if less:
            total -= less.pop((loan_id, component, currency), 0)
        if total:
            out.setdefault(loan_id, []).append((component, currency, -total))
    # Left over only if `not_booked` found postings `every` did not, which their shared
    # filters rule out; were one left, it still counts, as it did when both were summed in one
    # dictionary.
    for (loan_id, component, currency), total in less.items():
        if total:
            out.setdefault(loan_id, []).append((component, currency, total))
    return out
