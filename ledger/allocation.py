"""Repayment allocation: replay a loan's repayments over its schedule, as one pure function.

Nothing here is stored. What is paid, owed and overdue is derived by replaying the
non-reversed repayments in date order (ties by ref) over the installments, so reversing a
payment is replaying without it, and every later payment re-allocates.

Default order (Fineract's "penalties, fees, interest, principal order"): for each installment,
oldest first, pay its penalty, fee, interest, principal, then move to the next one; a payment
larger than what is due pays future installments the same way. A payment equal to the payoff
amount closes the loan and forgives the charges the payoff does not collect; a larger payment
is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import attrgetter

from ledger.allocation_book import _AT, _Book, payoff_claim
from ledger.allocation_records import (
    COMPONENT_FIRST,
    COMPONENTS,
    DEFAULT_ORDER,
    ZERO,
    Allocation,
    AllocationError,
    AllocationOrder,
    Component,
    Due,
    InstallmentState,
    Parts,
    Payment,
    PaymentRefused,
    Refusal,
    Share,
    _sum_parts,
    due_problems,
)

__all__ = [
    "COMPONENTS", "COMPONENT_FIRST", "DEFAULT_ORDER", "ZERO", "Allocation", "AllocationError",
    "AllocationOrder", "Component", "Due", "InstallmentState", "LoanState", "Parts", "Payment",
    "PaymentRefused", "Refusal", "Replay", "Share", "allocate", "due_problems", "payment_problems",
    "payoff_amount", "payoff_claim",
]




def _key(p: Payment) -> tuple[date, int, int, str]:
    # Date order; ties by ref, integer refs before text refs so mixed refs still sort.
    if isinstance(p.ref, str):
        return (p.paid_on, 1, 0, p.ref)
    return (p.paid_on, 0, p.ref, "")


@dataclass(frozen=True, slots=True)
class LoanState:
    """The result of a replay: per installment, per accepted payment, and refusals.

    `as_of` is set when payments after that date were left out.
    """

    dues: tuple[Due, ...]
    order: AllocationOrder
    installments: tuple[InstallmentState, ...]
    allocations: tuple[Allocation, ...] = ()
    refused: tuple[Refusal, ...] = ()
    as_of: date | None = None

    @property
    def paid(self) -> Parts:
        """Everything paid so far, by component."""
        return _sum_parts(i.paid for i in self.installments)

    @property
    def outstanding(self) -> Parts:
        """Everything still owed on the whole schedule (waived charges excluded)."""
        return _sum_parts(i.outstanding for i in self.installments)

    @property
    def outstanding_principal(self) -> Decimal:
        """Principal not yet repaid."""
        return self.outstanding.principal

    @property
    def closed_on(self) -> date | None:
        """The date nothing more was owed (by payoff or by the last payment), else None."""
        if self.outstanding.total != 0 or not self.allocations:
            return None
        return self.allocations[-1].payment.paid_on

    def until(self, day: date) -> LoanState:
        """This state as it stood at the end of `day` (payments after it left out)."""
        if self.as_of is not None and day > self.as_of:
            raise AllocationError(
                [f"this loan state only knows payments up to {self.as_of}, not {day}"]
            )
        kept = [a for a in self.allocations if a.payment.paid_on <= day]
        refused = [r for r in self.refused if r.payment.paid_on <= day]
        return _replay(self.dues, self.order, kept, refused, (), strict=False, as_of=day)

    def without(self, ref: int | str, *, strict: bool = True) -> LoanState:
        """Reverse a payment: the state as if it had never been received."""
        gone = [p for p in self._payments() if p.ref == ref]
        if not gone:
            raise AllocationError([f"there is no payment {ref!r} to reverse"])
        return self._resume(_key(gone[0]), (), strict)

    def with_payment(self, payment: Payment, *, strict: bool = True) -> LoanState:
        """Record one more payment (possibly back-dated); later payments re-allocate."""
        if any(p.ref == payment.ref for p in self._payments()):
            raise AllocationError([f"payment {payment.ref!r} is already recorded"])
        if self.as_of is not None and payment.paid_on > self.as_of:
            return self
        return self._resume(_key(payment), (payment,), strict)

    def _payments(self) -> list[Payment]:
        return [a.payment for a in self.allocations] + [r.payment for r in self.refused]

    def _resume(self, at: tuple[date, int, int, str], add: tuple[Payment, ...], strict: bool
                ) -> LoanState:
        # Keep every allocation before `at` as it was and replay the rest: allocation of a
        # payment depends only on the payments before it.
        kept = [a for a in self.allocations if _key(a.payment) < at]
        refused = [r for r in self.refused if _key(r.payment) < at]
        later = [p for p in self._payments() if _key(p) > at]
        return _replay(self.dues, self.order, kept, refused, (*later, *add),
                       strict=strict, as_of=self.as_of)


_number = attrgetter("number")


def allocate(
    dues: Sequence[Due],
    payments: Iterable[Payment],
    *,
    order: AllocationOrder = DEFAULT_ORDER,
    as_of: date | None = None,
    strict: bool = True,
) -> LoanState:
    """Replay `payments` in date order (ties by ref) over `dues` and return the loan's state.

    With `as_of`, payments dated after it are left out. A payment above the payoff amount on
    its date (or not above zero) raises `PaymentRefused` when `strict`, else is listed in
    `state.refused` and changes nothing.
    """
    problems = due_problems(dues)
    chosen = [p for p in payments if as_of is None or p.paid_on <= as_of]
    refs = [p.ref for p in chosen]
    if len(set(refs)) != len(refs):
        problems.append("payment refs must be unique")
    if problems:
        raise AllocationError(problems)
    ordered = tuple(sorted(dues, key=_number))
    return _replay(ordered, order, (), (), chosen, strict=strict, as_of=as_of)


class Replay:
    """A replay fed one payment at a time, in replay order (date, then ref), for callers that
    allocate new payments after a loan's standing ones and book only the allocations (bulk
    posting): no `LoanState` is built. Each `add` gives exactly the allocation or refusal
    `allocate(dues, payments, order=order, strict=False)` gives that payment."""

    def __init__(self, dues: Sequence[Due], *, order: AllocationOrder = DEFAULT_ORDER) -> None:
        problems = due_problems(dues)
        if problems:
            raise AllocationError(problems)
        self._book = _Book(tuple(sorted(dues, key=_number)))
        self._order = order
        # Component positions in fill order, for `_Book.take` (installment-first order only).
        self._slots = (tuple(_AT[c] for c in order.components) if order.installment_first
                       else None)
        self._last: tuple[date, int, int, str] | None = None

    def add(self, payment: Payment) -> Allocation | Refusal:
        """Decide one payment after every payment added before it (a refusal changes nothing)."""
        self._check_order(payment)
        result = self._book.decide(payment, self._order)
        if isinstance(result, Allocation):
            self._book.record(result)
        return result

    def split(self, payment: Payment) -> Parts | Refusal:
        """`add`, giving only what bulk posting books: the accepted payment's split by
        component (its allocation's `parts`) or its refusal."""
        self._check_order(payment)
        split = None if self._slots is None else self._book.take(payment, self._slots)
        if split is not None:
            return Parts(*split)
        result = self._book.decide(payment, self._order)
        if isinstance(result, Refusal):
            return result
        self._book.record(result)
        return result.parts

    @property
    def paid(self) -> Parts:
        """Everything the accepted payments paid so far, by component."""
        rows = self._book.paid  # summed column by column, as `_sum_parts` adds them
        return Parts(*(sum((row[k] for row in rows), ZERO) for k in range(4)))

    def _check_order(self, payment: Payment) -> None:
        key = _key(payment)
        if self._last is not None and key <= self._last:
            raise AllocationError([f"payment {payment.ref!r} on {payment.paid_on} does not "
                                   "come after the payments already replayed"])
        self._last = key

    @property
    def settled(self) -> bool:
        """True once nothing more is owed (paid or forgiven by a payoff)."""
        return self._book.owed_total == 0



def payoff_amount(state: LoanState, as_of: date) -> Decimal:
    """The amount that closes the loan on `as_of` (see `payoff_claim`); 0 once closed."""
    rows = state.until(as_of).installments
    claim = payoff_claim([(i.due_date, i.outstanding) for i in rows], as_of)
    return sum((c.total for c in claim), ZERO)


def payment_problems(state: LoanState, payment: Payment) -> list[str]:
    """Why recording `payment` would be refused (checked before it is stored), or []."""
    try:
        state.with_payment(payment, strict=True)
    except AllocationError as exc:
        return list(exc.problems)
    return []



def _replay(
    dues: tuple[Due, ...],
    order: AllocationOrder,
    kept: Sequence[Allocation],
    kept_refused: Sequence[Refusal],
    pending: Iterable[Payment],
    *,
    strict: bool,
    as_of: date | None,
) -> LoanState:
    # `kept` (already decided, all before `pending` in replay order) is re-applied as is;
    # `pending` is decided payment by payment.
    book = _Book(dues)
    allocations = list(kept)
    refused = list(kept_refused)
    for allocation in kept:
        book.record(allocation)
    for payment in sorted(pending, key=_key):
        result = book.decide(payment, order)
        if isinstance(result, Refusal):
            if strict:
                raise PaymentRefused(result)
            refused.append(result)
        else:
            book.record(result)
            allocations.append(result)
    return LoanState(dues, order, book.freeze(), tuple(allocations), tuple(refused), as_of)
