"""The loan book as `fsf verify` reads it: loans, schedules, repayments and their reversals,
each table in one raw query. Dates stay as the driver gives them: ISO text ('YYYY-MM-DD') on
SQLite, `date`s on PostgreSQL; either compares with the journal's dates from the same scan.

Raw DBAPI tuples, grouped and sorted by C-level helpers (`itemgetter`, `groupby`), not ORM
objects or typed rows: the whole book is read on every verify, and a Python object or a
parsed date per row would cost more than the checks themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy.orm import Session

from ledger.money import Money

__all__ = ["Book", "LoanRow", "RecordRow", "fmt_minor", "load_book"]

# A repayment as (entry id, paid on, loan id, cash account id, amount in minor units,
# currency, None): what its entry's first posting must say (`ledger.chain.FirstPosting`, the
# cash line, which has no component).
RecordRow = tuple[int, Any, int, int, int, str, None]
# (due date, penalty + fee, interest, principal) in minor units, in installment order
DueRow = tuple[Any, int, int, int]

_ENTRY = itemgetter(0)
_PAID_ON = itemgetter(1)
_LOAN = itemgetter(2)
_AMOUNT = itemgetter(4)
_CURRENCY = itemgetter(5)


@dataclass(frozen=True, slots=True)
class LoanRow:
    """What verify needs of a loan."""

    id: int
    ref: str
    currency: str
    status: str
    disbursed: bool
    principal_minor: int

    @property
    def name(self) -> str:
        """How messages name the loan."""
        return f"loan {self.ref} (id {self.id})"


@dataclass(frozen=True, slots=True)
class Book:
    """The rows behind the record, portfolio and cash checks.

    `records` are the repayments in entry id order; `schedules` maps a loan to its schedule
    versions' dues, oldest version first; `odd`
    holds the loans only the full replay may judge (a due date not stored as 'YYYY-MM-DD',
    which SQLite keeps as text, or two payments on one day); `standing` maps a loan to its
    standing repayments in replay order, and `standing_total` sums them per currency."""

    loans: dict[int, LoanRow]
    schedules: dict[int, list[list[DueRow]]]
    records: list[RecordRow]
    # (id, repayment id, entry id, the repayment's entry id or None when it is gone)
    reversals: list[tuple[int, int, int, int | None]]
    standing: dict[int, list[RecordRow]]
    standing_total: dict[str, int]
    odd: set[int]


def fmt_minor(amount: int, currency: str) -> str:
    """An amount in minor units as people read it (`150,000 ៛`), or as stored if it is not."""
    try:
        return str(Money.from_minor(amount, currency))
    except (ValueError, TypeError):
        return f"{amount!r} {currency!r}"


def _schedules(cursor: Any, dialect: str) -> tuple[dict[int, list[list[DueRow]]], set[int]]:
    cursor.execute("SELECT id, loan_id, version FROM loan_schedule")
    schedule_of = {sid: (lid, version) for sid, lid, version in cursor.fetchall()}
    # Installments in (schedule, number) order, cut into schedules by their counts: no
    # Python work per installment.
    cursor.execute("SELECT schedule_id, count(*) FROM schedule_installment GROUP BY schedule_id "
                   "ORDER BY schedule_id")
    counts = cursor.fetchall()
    # Penalty and fee as one sum (`ledger.verify_replay`), made negative if either is.
    cursor.execute("SELECT due_date, CASE WHEN penalty_minor < 0 "
                   "OR fee_minor < 0 THEN -1 ELSE penalty_minor + fee_minor END, "
                   "interest_minor, principal_minor FROM schedule_installment "
                   "ORDER BY schedule_id, number")
    rows = cursor.fetchall()
    dues: dict[int, list[DueRow]] = {}
    at = 0
    for sid, count in counts:
        dues[sid] = rows[at:at + count]
        at += count
    odd: set[int] = set()
    if dialect == "sqlite":  # `date(x) IS x` only for canonical, valid 'YYYY-MM-DD' text
        cursor.execute("SELECT DISTINCT schedule_id FROM schedule_installment "
                       "WHERE date(due_date) IS NOT due_date")
        odd = {schedule_of[sid][0] for (sid,) in cursor.fetchall() if sid in schedule_of}
    versions: dict[int, list[tuple[int, list[DueRow]]]] = {}
    for sid, (loan_id, version) in schedule_of.items():
        versions.setdefault(loan_id, []).append((version, dues.get(sid, [])))
    return {lid: [d for _, d in sorted(v, key=itemgetter(0))]
            for lid, v in versions.items()}, odd


def _standing(records: list[RecordRow], reversed_entries: set[int | None],
              odd: set[int]) -> dict[int, list[RecordRow]]:
    """Each loan's standing repayments in replay order. `allocate` orders a day's payments
    by repayment id, which this does not know: a loan paid twice on one day joins `odd`."""
    rows = [r for r in records if r[0] not in reversed_entries] if reversed_entries else records
    standing = {lid: list(group) for lid, group in groupby(sorted(rows, key=_LOAN), _LOAN)}
    for loan_id, pays in standing.items():
        if len(pays) > 1:
            pays.sort(key=_PAID_ON)
            if len(set(map(_PAID_ON, pays))) < len(pays):
                odd.add(loan_id)
    return standing


def load_book(session: Session) -> Book:
    """Read loans, schedules, repayments and reversals, one or two queries a table."""
    connection = session.connection()
    dialect = connection.dialect.name
    raw = connection.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        cursor.execute("SELECT id, ref, currency, status, disbursed_on IS NOT NULL, "
                       "principal_minor FROM loan")
        loans = {int(r[0]): LoanRow(int(r[0]), str(r[1]), str(r[2]), str(r[3]), bool(r[4]),
                                    int(r[5])) for r in cursor.fetchall()}
        schedules, odd = _schedules(cursor, dialect)
        cursor.execute("SELECT entry_id, paid_on, loan_id, cash_account_id, amount_minor, "
                       "currency, NULL FROM repayment")
        records: list[RecordRow] = list(cursor.fetchall())
        cursor.execute("SELECT x.id, x.repayment_id, x.entry_id, r.entry_id, r.amount_minor, "
                       "r.currency FROM repayment_reversal x "
                       "LEFT JOIN repayment r ON r.id = x.repayment_id")
        reversals = cursor.fetchall()
    finally:
        cursor.close()
    records.sort(key=_ENTRY)  # already in entry order on SQLite: one pass
    standing = _standing(records, {r[3] for r in reversals}, odd)
    currencies = set(map(_CURRENCY, records))
    totals: dict[str, int] = {}
    if len(currencies) == 1:  # the usual ledger: one sum in C
        totals[currencies.pop()] = sum(map(_AMOUNT, records))
    else:
        for r in records:
            totals[r[5]] = totals.get(r[5], 0) + r[4]
    for _, _, _, repayment_entry, amount, currency in reversals:
        if repayment_entry is not None:  # a reversal of a repayment that is gone takes nothing
            totals[currency] = totals.get(currency, 0) - amount
    return Book(loans, schedules, records, [tuple(r[:4]) for r in reversals], standing, totals,
                odd)
