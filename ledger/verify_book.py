"""The loan book as `fsf verify` reads it: loan by loan in loan id order, each loan with its
schedule versions and its standing repayments, merged from three cursors ordered by loan
(server-side on PostgreSQL), so memory holds one loan and one batch of rows per cursor however
large the book is. Dates stay as the driver gives them: ISO text ('YYYY-MM-DD') on SQLite,
`date`s on PostgreSQL; either compares with the journal's dates from the same snapshot.

Raw DBAPI tuples, cut into loans by C-level helpers (`groupby`, `itemgetter`), not ORM
objects or typed rows: the whole book is read on every verify.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from itertools import chain, groupby
from operator import itemgetter
from typing import Any

from sqlalchemy.orm import Session

from ledger.money import Money

__all__ = ["DueRow", "LoanBook", "LoanRow", "PayRow", "RecordRow", "fmt_minor", "loan_book",
           "loan_names", "loan_rows", "raw_connection", "reversals", "rows_of"]

# A repayment as (entry id, paid on, loan id, cash account id, amount in minor units,
# currency, None): what its entry's first posting must say (`ledger.chain.FirstPosting`, the
# cash line, which has no component).
RecordRow = tuple[int, Any, int, int, int, str, None]
# (due date, penalty + fee, interest, principal) in minor units, in installment order
DueRow = tuple[Any, int, int, int]
# A standing repayment as the replay takes it: (repayment id, paid on, amount in minor units)
PayRow = tuple[int, Any, int]

_LOAN_COLUMNS = "id, ref, currency, status, disbursed_on IS NOT NULL, principal_minor"
_FIRST = itemgetter(0)
_SCHEDULE = itemgetter(1, 2)
_DUE = itemgetter(4, 5, 6, 7)
_PAY = itemgetter(1, 2, 3)
_PAID_ON = itemgetter(1)


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
class LoanBook:
    """One loan as the portfolio check replays it: its schedule versions' dues (oldest
    first), its standing repayments in replay order (date; a day's payments in no set order),
    and whether only the full replay may judge it (`odd`: a due date not stored as
    'YYYY-MM-DD', which SQLite keeps as text, or two payments on one day)."""

    loan: LoanRow
    schedules: list[list[DueRow]]
    standing: list[PayRow]
    odd: bool


def fmt_minor(amount: int, currency: str) -> str:
    """An amount in minor units as people read it (`150,000 ៛`), or as stored if it is not."""
    try:
        return str(Money.from_minor(amount, currency))
    except (ValueError, TypeError):
        return f"{amount!r} {currency!r}"


def raw_connection(session: Session) -> Any:
    """The DBAPI connection under the session's (verify reads through raw cursors)."""
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    return raw


def rows_of(cursor: Any, batch: int) -> Iterator[Any]:
    """A cursor's rows one by one, fetched `batch` at a time (iterated in C)."""
    return chain.from_iterable(iter(partial(cursor.fetchmany, batch), []))


def _loan_row(r: Any) -> LoanRow:
    return LoanRow(int(r[0]), str(r[1]), str(r[2]), str(r[3]), bool(r[4]), int(r[5]))


def loan_rows(session: Session, ids: set[int]) -> dict[int, LoanRow]:
    """The loans of these ids (for messages about a few loans)."""
    cursor = raw_connection(session).cursor()
    out: dict[int, LoanRow] = {}
    try:
        listed = sorted(i for i in ids if isinstance(i, int))
        for start in range(0, len(listed), 500):
            chunk = ", ".join(str(i) for i in listed[start:start + 500])
            cursor.execute(f"SELECT {_LOAN_COLUMNS} FROM loan WHERE id IN ({chunk})")
            out.update((int(r[0]), _loan_row(r)) for r in cursor.fetchall())
    finally:
        cursor.close()
    return out


def loan_names(session: Session, ids: set[Any]) -> dict[Any, str]:
    """How messages name these loans (those in the loan records)."""
    return {i: loan.name for i, loan in loan_rows(session, ids).items()}


def reversals(session: Session) -> list[tuple[int, int, int, int | None, int | None, str | None]]:
    """Every repayment reversal as (id, repayment id, entry id, the repayment's entry id,
    amount and currency, or None when the repayment is gone): few, so read at once."""
    cursor = raw_connection(session).cursor()
    try:
        cursor.execute("SELECT x.id, x.repayment_id, x.entry_id, r.entry_id, r.amount_minor, "
                       "r.currency FROM repayment_reversal x "
                       "LEFT JOIN repayment r ON r.id = x.repayment_id ORDER BY x.id")
        return [tuple(r) for r in cursor.fetchall()]
    finally:
        cursor.close()


def _odd_dates(session: Session, dialect: str, only: str) -> set[int]:
    if dialect != "sqlite":
        return set()
    cursor = raw_connection(session).cursor()
    try:  # `date(x) IS x` only for canonical, valid 'YYYY-MM-DD' text
        cursor.execute("SELECT DISTINCT s.loan_id FROM loan_schedule s WHERE s.id IN "
                       "(SELECT schedule_id FROM schedule_installment "
                       f"WHERE date(due_date) IS NOT due_date){only.format(c='s.loan_id')}")
        return {int(i) for (i,) in cursor.fetchall()}
    finally:
        cursor.close()


def _groups(rows: Iterator[Any]) -> Iterator[tuple[Any, Iterator[Any]]]:
    return groupby(rows, _FIRST)


def loan_book(session: Session, reversed_ids: set[int], batch: int,
              only: list[int] | None = None) -> Iterator[LoanBook]:
    """Every loan (or `only` those of these ids), in id order, with its schedules and standing
    repayments (those whose repayment id is not in `reversed_ids`)."""
    connection = session.connection()
    dialect = connection.dialect.name
    raw = raw_connection(session)
    # "{c}" is where the column goes: " AND {c} IN (1, 2)", or nothing for the whole book.
    chosen = "" if only is None else \
        " AND {c} IN (" + (", ".join(str(int(i)) for i in only) or "NULL") + ")"
    odd_dates = _odd_dates(session, dialect, chosen)
    pg = dialect == "postgresql"
    cursors = [raw.cursor(name=f"fsf_verify_{n}", binary=True) if pg else raw.cursor()
               for n in ("loans", "dues", "pays")]
    loans, dues, pays = cursors
    try:
        loans.execute(f"SELECT {_LOAN_COLUMNS} FROM loan WHERE TRUE{chosen.format(c='id')} "
                      "ORDER BY id")
        # Penalty and fee as one sum (`ledger.verify_replay`), made negative if either is; a
        # schedule without installments still counts as a version (one NULL row).
        dues.execute("SELECT s.loan_id, s.version, s.id, i.schedule_id, i.due_date, "
                     "CASE WHEN i.penalty_minor < 0 OR i.fee_minor < 0 THEN -1 "
                     "ELSE i.penalty_minor + i.fee_minor END, "
                     "i.interest_minor, i.principal_minor FROM loan_schedule s "
                     "LEFT JOIN schedule_installment i ON i.schedule_id = s.id "
                     f"WHERE TRUE{chosen.format(c='s.loan_id')} "
                     "ORDER BY s.loan_id, s.version, s.id, i.number")
        # In the order of the (loan, paid on, amount) index: a day's payments in no set order,
        # which only a loan paid twice on one day (left to the full replay) could see.
        pays.execute("SELECT loan_id, id, paid_on, amount_minor FROM repayment "
                     f"WHERE TRUE{chosen.format(c='loan_id')} ORDER BY loan_id, paid_on")
        due_groups, pay_groups = _groups(rows_of(dues, batch)), _groups(rows_of(pays, batch))
        due_key, due_rows = next(due_groups, (None, iter(())))
        pay_key, pay_rows = next(pay_groups, (None, iter(())))
        for row in rows_of(loans, batch):
            loan = _loan_row(row)
            lid = loan.id
            while due_key is not None and due_key < lid:  # schedules of no loan
                due_key, due_rows = next(due_groups, (None, iter(())))
            while pay_key is not None and pay_key < lid:  # repayments of no loan
                pay_key, pay_rows = next(pay_groups, (None, iter(())))
            schedules: list[list[DueRow]] = []
            if due_key == lid:
                for _, version in groupby(due_rows, _SCHEDULE):
                    rows = list(version)
                    schedules.append([] if rows[0][3] is None else list(map(_DUE, rows)))
                due_key, due_rows = next(due_groups, (None, iter(())))
            standing: list[PayRow] = []
            if pay_key == lid:
                standing = [p for p in map(_PAY, pay_rows) if p[0] not in reversed_ids] \
                    if reversed_ids else list(map(_PAY, pay_rows))
                pay_key, pay_rows = next(pay_groups, (None, iter(())))
            odd = lid in odd_dates or (len(standing) > 1 and
                                       len(set(map(_PAID_ON, standing))) < len(standing))
            yield LoanBook(loan, schedules, standing, odd)
    finally:
        for cursor in cursors:
            cursor.close()
