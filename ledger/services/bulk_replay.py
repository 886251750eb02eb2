"""What each payment of a bulk posting books: every loan's payments replayed once, in integer
minor units (`ledger.allocation_minor.MinorReplay`) for the usual loan, and through
`ledger.allocation` for the rest (rescheduled loans, back-dated payments, amounts in another
currency than the loan's, dues `Replay` would refuse), which gives the same results the slow
way. Either way: what `record_repayment` computes, payment by payment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from ledger.allocation import COMPONENTS, Due, LoanState, Parts, Payment, Refusal, Replay, allocate
from ledger.allocation_minor import MinorDue, MinorReplay, minor_dues_ok
from ledger.db.tables import Loan
from ledger.money import format_amount, get_currency
from ledger.services.bulk_inputs import (
    StandingTotals,
    booked_minor,
    loan_facts,
    minor_payments,
    minor_schedules,
    standing_totals,
)
from ledger.services.errors import ServiceError
from ledger.services.loan_book import (
    booked_parts_by_loan,
    first_schedules,
    load_dues,
    load_payments,
    standing_payments,
)

__all__ = ["Change", "LoanRow", "NewPay", "changes", "decimal_inputs", "loan_rows"]

# A new payment to replay: its key, its repayment id (ties on a date replay by it), paid on,
# amount in the loan's minor units, and the same amount as a Decimal.
NewPay = tuple[int, int, date, int, Decimal]

# Per new payment: the credits to book, in minor units in component order (penalty, fee,
# interest, principal; zero: no posting), and the closing date when that payment leaves
# nothing owed.
Credits = tuple[int, int, int, int]
Change = tuple[Credits, date | None]


@dataclass(frozen=True, slots=True)
class LoanRow:
    """What posting to a loan needs of it."""

    id: int
    ref: str
    status: str
    currency: str
    fund_id: int
    disbursed_on: date | None
    who: str


def loan_rows(session: Session, ids: list[int]) -> dict[int, LoanRow]:
    """The loans named that are in the ledger."""
    return {i: LoanRow(*facts) for i, facts in loan_facts(session, ids).items()}


def decimal_inputs(session: Session, ids: list[int], loans: dict[int, LoanRow],
                   rescheduled: dict[int, date]
                   ) -> dict[int, tuple[tuple[Due, ...], list[Payment]]]:
    """Per loan, the dues its payments replay over and its standing payments (by id)."""
    stored = standing_payments(session, ids)
    schedules = first_schedules(session, {i: loans[i].currency for i in ids
                                          if i not in rescheduled})
    out: dict[int, tuple[tuple[Due, ...], list[Payment]]] = {}
    for loan_id in ids:
        if loan_id in rescheduled:
            row = session.get(Loan, loan_id)
            assert row is not None
            pays = load_payments(session, loan_id, currency=get_currency(row.currency))
            out[loan_id] = (load_dues(session, row, pays), list(pays))
        else:
            out[loan_id] = (tuple(schedules.get(loan_id, ())), stored.get(loan_id, []))
    return out


def _refused(loan: LoanRow, paid_on: date, amount: Decimal, payoff: Decimal) -> ServiceError:
    cur = get_currency(loan.currency)
    if payoff == 0:
        return ServiceError(f"loan {loan.ref} is already fully repaid on {paid_on}",
                            field="amount")
    return ServiceError(f"{format_amount(amount, cur)} is more than the payoff amount of "
                        f"{format_amount(payoff, cur)} on {paid_on}", field="amount")


def _closed(loan: LoanRow, on: date | None) -> ServiceError:
    return ServiceError(f"loan {loan.ref} was closed on {on}; payments go only to active loans",
                        field="loan")


def _credits(parts: Parts, digits: int) -> Credits:
    # Every part is a whole number of minor units (dues, payments and the journal's sums all
    # are), so a part is zero exactly when its minor units are. Riel amounts are whole
    # already: int() alone is their minor units.
    if digits:
        return (int(parts.penalty.scaleb(digits)), int(parts.fee.scaleb(digits)),
                int(parts.interest.scaleb(digits)), int(parts.principal.scaleb(digits)))
    return (int(parts.penalty), int(parts.fee), int(parts.interest), int(parts.principal))


def _replay(loan: LoanRow, dues: tuple[Due, ...], stored: list[Payment], new: list[Payment],
            booked: Parts) -> list[Change]:
    """The changes of the new payments (in order), through `ledger.allocation`."""
    digits = get_currency(loan.currency).digits
    out: list[Change] = []
    if not stored or new[0].paid_on >= stored[-1].paid_on:
        # Every new payment replays after the stored ones: one replay, fed in order, gives
        # every allocation; the journal's drift from the replay goes with the first one.
        replay = Replay(dues)
        for p in stored:
            replay.split(p)
        drift = replay.paid - booked if stored else None
        for p in new:
            result = replay.split(p)
            if isinstance(result, Refusal):
                raise _refused(loan, p.paid_on, p.amount, result.payoff)
            if out and out[-1][1] is not None:
                raise _closed(loan, out[-1][1])
            if drift is not None:
                result = result + drift
                drift = None
            out.append((_credits(result, digits), p.paid_on if replay.settled else None))
        return out
    state: LoanState = allocate(dues, stored, strict=False)
    running = booked
    for p in new:
        if out and out[-1][1] is not None:
            raise _closed(loan, out[-1][1])
        after = state.with_payment(p, strict=False)
        refusal = next((r for r in after.refused if r.payment.ref == p.ref), None)
        if refusal is not None:
            raise _refused(loan, p.paid_on, p.amount, refusal.payoff)
        if len(after.refused) > len(state.refused):
            later = after.refused[-1].payment
            raise ServiceError(f"a payment on {p.paid_on} would leave the later payment of "
                               f"{format_amount(later.amount, get_currency(loan.currency))} on "
                               f"{later.paid_on} above what loan {loan.ref} owes",
                               field="paid_on")
        change = after.paid - running
        running, state = after.paid, after
        closed = (after.closed_on or p.paid_on) if after.outstanding.total == 0 else None
        out.append((_credits(change, digits), closed))
    return out


# A loan the integer replay takes: its replay, fed its standing payments (None: they are
# yet to be read and fed, one by one), and the journal's credits by component in minor units
# (None: no payments).
_MinorInputs = tuple[MinorReplay, list[int] | None]


def _minor_inputs(loan: LoanRow, dues: list[MinorDue],
                  stored: StandingTotals | None, booked: list[tuple[str, str, int]],
                  first_new: date) -> tuple[MinorReplay, list[int] | None, bool] | None:
    """The loan's replay over its dues, its standing payments taken when `fill_all` can
    (else the last item is False: `MinorReplay.feed` them), and the journal's credits; None
    when it needs `_replay` (see the module docstring): integers can stand in for its
    amounts only when all are in its currency."""
    if not minor_dues_ok(dues):
        return None
    if stored is None:
        return MinorReplay(dues), None, True
    total, low, high, last, first_currency, last_currency = stored
    if first_new < last or not first_currency == last_currency == loan.currency:
        return None
    credits = [0, 0, 0, 0]
    for component, currency, amount in booked:
        if currency != loan.currency or component not in COMPONENTS:
            return None
        credits[COMPONENTS.index(component)] = amount
    replay = MinorReplay(dues)
    return replay, credits, replay.fill_all(total, low, high)


def _replay_minor(loan: LoanRow, inputs: _MinorInputs, new: list[NewPay]) -> list[Change]:
    """`_replay` of a loan `_minor_inputs` took, in integer minor units."""
    replay, booked = inputs
    drift = None
    if booked is not None:
        paid = replay.paid
        drift = (paid[0] - booked[0], paid[1] - booked[1], paid[2] - booked[2],
                 paid[3] - booked[3])
    out: list[Change] = []
    for _, _, day, minor, amount in new:
        split = replay.split(day, minor)
        if split is None:
            digits = get_currency(loan.currency).digits
            raise _refused(loan, day, amount, Decimal(replay.payoff).scaleb(-digits))
        if out and out[-1][1] is not None:
            raise _closed(loan, out[-1][1])
        if drift is not None:
            split = (split[0] + drift[0], split[1] + drift[1], split[2] + drift[2],
                     split[3] + drift[3])
            drift = None
        out.append((split, day if replay.settled else None))
    return out


def changes(session: Session, per_loan: dict[int, list[NewPay]],
            loans: dict[int, LoanRow], rescheduled: dict[int, date]) -> dict[int, Change]:
    """What each new payment books, by its key (loan id to its new payments in replay
    order); the first problem, in `per_loan`'s order, is raised as `record_repayment` would
    raise it. Only loans the integer replay does not take get `Payment`s."""
    ids = sorted(per_loan)
    plain = [i for i in ids if i not in rescheduled]
    schedules = minor_schedules(session, plain)
    stored = standing_totals(session, plain)
    booked = booked_minor(session, [i for i in plain if i in stored])
    fast: dict[int, _MinorInputs] = {}
    unfed: list[int] = []
    for loan_id in plain:
        got = _minor_inputs(loans[loan_id], schedules.get(loan_id, []), stored.get(loan_id),
                            booked.get(loan_id, []), per_loan[loan_id][0][2])
        if got is not None:
            fast[loan_id] = got[:2]
            if not got[2]:
                unfed.append(loan_id)
    # Standing payments that are not all plain fills, read and fed one by one.
    for loan_id, payments in minor_payments(session, unfed).items():
        fast[loan_id][0].feed([(day, amount) for _, day, amount, _ in payments])
    slow = [i for i in ids if i not in fast]
    inputs = decimal_inputs(session, slow, loans, rescheduled) if slow else {}
    slow_booked = booked_parts_by_loan(session, [i for i in slow if inputs[i][1]])
    out: dict[int, Change] = {}
    for loan_id, items in per_loan.items():
        if loan_id in fast:
            results = _replay_minor(loans[loan_id], fast[loan_id], items)
        else:
            dues, standing = inputs[loan_id]
            results = _replay(loans[loan_id], dues, standing,
                              [Payment(rid, day, amount) for _, rid, day, _, amount in items],
                              slow_booked.get(loan_id, Parts()))
        out.update(zip([item[0] for item in items], results, strict=True))
    return out
