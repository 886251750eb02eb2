"""Portfolio against the loans, loan by loan: the principal the portfolio accounts hold for each
loan must be what its schedule and standing repayments leave owed (nothing for a loan written
off or never paid out).

Loans come one at a time from `ledger.verify_book.loan_book`. Each is first replayed by
`ledger.verify_replay` in integers; when that agrees with the books the loan is settled. Any
other loan (rescheduled, paid twice on one day, a due date stored in an odd form, or a
disagreement) waits in a chunk of `CHUNK` loans, replayed in full by
`ledger.allocation.allocate`, which has the last word.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import itemgetter

from sqlalchemy.orm import Session

from ledger.allocation import AllocationError, Due, Payment, allocate
from ledger.money import Money, get_currency
from ledger.services.loan_book import compose_dues, schedule_versions
from ledger.verify_book import LoanBook, LoanRow, fmt_minor, loan_rows
from ledger.verify_replay import outstanding_principal

__all__ = ["NOT_HELD", "Portfolio", "Replayed", "check_portfolio", "replay_book"]

# Loans per schedule query of the full replay (well under every database's parameter limit).
CHUNK = 500
_Key = tuple[int | None, str]
_DAY_AMOUNT = itemgetter(1, 2)


@dataclass(frozen=True, slots=True)
class Portfolio:
    """What the portfolio check found: problems in loan order, what the replayed loans owe
    per currency, how many loans were replayed and how many of them in full, and the
    principal paid out on disbursed loans per currency (for the cash check)."""

    problems: tuple[str, ...]
    owed: dict[str, int]
    replayed: int
    full: int
    paid_out: dict[str, int]


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


def _full_replay(session: Session, loans: list[LoanBook]) -> dict[int, int | str]:
    """Outstanding principal (minor units) by `allocate`, or why the loan cannot be replayed."""
    failed: dict[int, str] = {}
    versions = _versions(session, [book.loan.id for book in loans], failed)
    out: dict[int, int | str] = dict(failed)
    for book in loans:
        loan = book.loan
        if loan.id in failed:
            continue
        try:
            cur = get_currency(loan.currency)
            # `allocate` orders a day's payments by their repayment ids.
            pays = tuple(Payment(rid, date.fromisoformat(str(day)),
                                 Decimal(amount).scaleb(-cur.digits))
                         for rid, day, amount in sorted(book.standing,
                                                        key=lambda p: (str(p[1]), p[0])))
            state = allocate(compose_dues(versions.get(loan.id, []), pays), pays, strict=False)
            out[loan.id] = Money(state.outstanding_principal, cur).minor
        except (AllocationError, ValueError, TypeError, ArithmeticError, KeyError) as exc:
            out[loan.id] = f"its schedule and repayments cannot be replayed ({exc})"
    return out


def _problem(loan: LoanRow | None, key: _Key, held: int, owed: int) -> str:
    loan_id, currency = key
    if loan_id is None:
        return f"portfolio postings for no loan hold {fmt_minor(held, currency)}"
    if loan is None:
        return (f"portfolio postings for loan id {loan_id}, which is not in the loan records, "
                f"hold {fmt_minor(held, currency)}")
    why = ("it was written off" if loan.status == "written_off" else
           "it was never paid out" if not loan.disbursed else
           f"its currency is {loan.currency}" if currency != loan.currency else
           f"its schedule and repayments leave {fmt_minor(owed, currency)} owed")
    return f"{loan.name}: the portfolio holds {fmt_minor(held, currency)} for it, but {why}"


@dataclass(slots=True)
class Replayed:
    """The loan book replayed, before the journal's sums are known (so it can run while they
    are being made): per loan id in loan order, its currency and the principal the fast
    replay leaves owed, or `NOT_HELD` for a loan that must hold nothing (not paid out or
    written off); the loans only the full replay may judge; what was paid out per currency;
    and how many loans were replayed."""

    expected: dict[int, tuple[str, int]]
    pending: list[LoanBook]
    paid_out: dict[str, int]
    replayed: int


NOT_HELD = -1


def replay_book(books: Iterable[LoanBook]) -> Replayed:
    """Replay every loan of the book the fast way (`ledger.verify_replay`); the first half of
    the portfolio check, which needs nothing of the journal."""
    found = Replayed({}, [], {}, 0)
    expected, paid_out = found.expected, found.paid_out
    currencies: dict[str, str] = {}  # one text per currency, not one per loan
    for book in books:
        loan = book.loan
        currency = currencies.setdefault(loan.currency, loan.currency)
        if loan.disbursed:
            paid_out[currency] = paid_out.get(currency, 0) + loan.principal_minor
        if not loan.disbursed or loan.status == "written_off":
            expected[loan.id] = (currency, NOT_HELD)
            continue
        found.replayed += 1
        fast = None
        if len(book.schedules) <= 1 and not book.odd:
            fast = outstanding_principal(book.schedules[0] if book.schedules else [],
                                         map(_DAY_AMOUNT, book.standing))
        if fast is None:
            found.pending.append(book)
        else:
            expected[loan.id] = (currency, fast)
    return found


class _Check:
    """The running state of `check_portfolio`."""

    def __init__(self, session: Session, booked: dict[_Key, int]) -> None:
        self.session, self.booked = session, booked
        self.problems: list[tuple[tuple[int, int], str]] = []
        self.owed: dict[str, int] = {}
        self.full = 0

    def owes(self, loan: LoanRow, held: int, owed: int) -> None:
        self.owed[loan.currency] = self.owed.get(loan.currency, 0) + owed
        if held != owed:
            self.problems.append(((loan.id, 1), _problem(loan, (loan.id, loan.currency),
                                                         held, owed)))

    def replay(self, books: list[LoanBook]) -> None:
        """The full replay of these loans, compared with what the portfolio holds for them."""
        for start in range(0, len(books), CHUNK):
            chunk = books[start:start + CHUNK]
            self.full += len(chunk)
            results = _full_replay(self.session, chunk)
            for book in chunk:
                loan, result = book.loan, results[book.loan.id]
                held = self.booked.pop((loan.id, loan.currency), 0)
                if isinstance(result, str):
                    self.problems.append(((loan.id, 0), f"{loan.name}: {result}"))
                else:
                    self.owes(loan, held, result)

    def rest(self) -> None:
        """Portfolio postings for no loan, a loan not in the records, or another currency."""
        rest = {k: v for k, v in self.booked.items() if v}
        loans = loan_rows(self.session, {k[0] for k in rest if k[0] is not None})
        for key, held in rest.items():
            loan = loans.get(key[0]) if key[0] is not None else None
            self.problems.append(((-1 if key[0] is None else key[0], 1),
                                  _problem(loan, key, held, 0)))


def check_portfolio(session: Session, replayed: Replayed, booked: dict[_Key, int],
                    again: Callable[[list[int]], Iterable[LoanBook]]) -> Portfolio:
    """Compare `booked` (portfolio postings summed by loan id and currency; emptied here)
    with every disbursed, not written-off loan's outstanding principal (`replayed`), loan by
    loan. A loan whose fast answer disagrees is replayed in full, its book read `again`."""
    check = _Check(session, booked)
    owed, differ, held_anyway = check.owed, [], []
    for loan_id, (currency, expect) in replayed.expected.items():
        held = booked.pop((loan_id, currency), 0)
        if expect == held:
            owed[currency] = owed.get(currency, 0) + held
        elif expect == NOT_HELD:
            if held:
                held_anyway.append((loan_id, currency, held))
        else:
            booked[(loan_id, currency)] = held  # kept for the full replay
            differ.append(loan_id)
    loans = loan_rows(session, {i for i, _, _ in held_anyway})
    for loan_id, currency, held in held_anyway:
        check.problems.append(((loan_id, 1), _problem(loans[loan_id], (loan_id, currency),
                                                      held, 0)))
    books = replayed.pending
    for start in range(0, len(differ), CHUNK):
        books += again(differ[start:start + CHUNK])
    check.replay(books)
    check.rest()
    return Portfolio(tuple(p for _, p in sorted(check.problems)), owed, replayed.replayed,
                     check.full, replayed.paid_out)
