"""Portfolio against the loans, loan by loan: the principal the portfolio accounts hold for each
loan must be what its schedule and standing repayments leave owed (nothing for a loan written
off or never paid out).

Each loan is first replayed by `ledger.verify_replay` in integers; when that agrees with the
books the loan is settled. Any other loan (rescheduled, paid twice on one day, a due date
stored in an odd form, or a disagreement) is replayed in full by `ledger.allocation.allocate`,
which has the last word.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import itemgetter

from sqlalchemy.orm import Session

from ledger.allocation import AllocationError, Due, Payment, allocate
from ledger.money import Money, get_currency
from ledger.services.loan_book import compose_dues, schedule_versions
from ledger.verify_book import Book, LoanRow, fmt_minor
from ledger.verify_replay import outstanding_principal

__all__ = ["Portfolio", "check_portfolio"]

_DAY_AMOUNT = itemgetter(1, 4)
# Loans per schedule query of the full replay (well under every database's parameter limit).
CHUNK = 500


@dataclass(frozen=True, slots=True)
class Portfolio:
    """What the portfolio check found: problems in loan order, what the replayed loans owe
    per currency, how many loans were replayed and how many of them in full."""

    problems: tuple[str, ...]
    owed: dict[str, int]
    replayed: int
    full: int


def _versions(session: Session, ids: list[int], failed: dict[int, str]
              ) -> dict[int, list[tuple[date, list[Due]]]]:
    out: dict[int, list[tuple[date, list[Due]]]] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        try:
            out.update(schedule_versions(session, chunk))
        except (ValueError, TypeError):
            for loan_id in chunk:  # find the loan whose schedule cannot be read
                try:
                    out.update(schedule_versions(session, [loan_id]))
                except (ValueError, TypeError) as exc:
                    failed[loan_id] = f"its schedule cannot be read ({exc})"
    return out


def _repayment_ids(session: Session, ids: list[int]) -> dict[int, int]:
    # Repayment ids by entry id: `allocate` orders a day's payments by them.
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    out: dict[int, int] = {}
    try:
        for start in range(0, len(ids), CHUNK):
            chunk = ", ".join(str(int(i)) for i in ids[start:start + CHUNK])
            cursor.execute(f"SELECT entry_id, id FROM repayment WHERE loan_id IN ({chunk})")
            out.update(cursor.fetchall())
    finally:
        cursor.close()
    return out


def _full_replay(session: Session, loans: list[LoanRow], book: Book) -> dict[int, int | str]:
    """Outstanding principal (minor units) by `allocate`, or why the loan cannot be replayed."""
    failed: dict[int, str] = {}
    versions = _versions(session, [loan.id for loan in loans], failed)
    refs = _repayment_ids(session, [loan.id for loan in loans])
    out: dict[int, int | str] = dict(failed)
    for loan in loans:
        if loan.id in failed:
            continue
        try:
            cur = get_currency(loan.currency)
            pays = tuple(Payment(refs[entry_id], date.fromisoformat(str(day)),
                                 Decimal(amount).scaleb(-cur.digits))
                         for entry_id, day, _, _, amount, _, _ in book.standing.get(loan.id, ()))
            state = allocate(compose_dues(versions.get(loan.id, []), pays), pays, strict=False)
            out[loan.id] = Money(state.outstanding_principal, cur).minor
        except (AllocationError, ValueError, TypeError, ArithmeticError, KeyError) as exc:
            out[loan.id] = f"its schedule and repayments cannot be replayed ({exc})"
    return out


def _problem(book: Book, key: tuple[int | None, str], held: int, owed: int) -> str:
    loan_id, currency = key
    if loan_id is None:
        return f"portfolio postings for no loan hold {fmt_minor(held, currency)}"
    loan = book.loans.get(loan_id)
    if loan is None:
        return (f"portfolio postings for loan id {loan_id}, which is not in the loan records, "
                f"hold {fmt_minor(held, currency)}")
    why = ("it was written off" if loan.status == "written_off" else
           "it was never paid out" if not loan.disbursed else
           f"its currency is {loan.currency}" if currency != loan.currency else
           f"its schedule and repayments leave {fmt_minor(owed, currency)} owed")
    return f"{loan.name}: the portfolio holds {fmt_minor(held, currency)} for it, but {why}"


def check_portfolio(session: Session, book: Book,
                    booked: dict[tuple[int | None, str], int]) -> Portfolio:
    """Compare `booked` (portfolio postings summed by loan id and currency) with every
    disbursed, not written-off loan's outstanding principal, loan by loan."""
    expected: dict[tuple[int | None, str], int] = {}
    full: list[LoanRow] = []
    replayed = 0
    for loan in book.loans.values():
        if not loan.disbursed or loan.status == "written_off":
            continue
        replayed += 1
        versions = book.schedules.get(loan.id, [])
        own: tuple[int | None, str] = (loan.id, loan.currency)
        fast = None
        if len(versions) <= 1 and loan.id not in book.odd:
            fast = outstanding_principal(versions[0] if versions else [],
                                         map(_DAY_AMOUNT, book.standing.get(loan.id, ())))
        if fast is not None and fast == booked.get(own, 0):
            expected[own] = fast
        else:
            full.append(loan)
    problems: list[tuple[tuple[int, int], str]] = []
    results = _full_replay(session, full, book) if full else {}
    unreadable: set[tuple[int | None, str]] = set()
    for loan in full:
        result = results[loan.id]
        if isinstance(result, str):
            problems.append(((loan.id, 0), f"{loan.name}: {result}"))
            unreadable.add((loan.id, loan.currency))
        else:
            expected[(loan.id, loan.currency)] = result
    for key in set(booked) | set(expected):
        held, owed = booked.get(key, 0), expected.get(key, 0)
        if held != owed and key not in unreadable:
            problems.append(((-1 if key[0] is None else key[0], 1),
                             _problem(book, key, held, owed)))
    owed_total: dict[str, int] = {}
    for (_, currency), amount in expected.items():
        owed_total[currency] = owed_total.get(currency, 0) + amount
    return Portfolio(tuple(p for _, p in sorted(problems)), owed_total, replayed, len(full))
