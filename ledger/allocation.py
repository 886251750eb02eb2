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
from itertools import pairwise

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
)

__all__ = [
    "COMPONENTS", "COMPONENT_FIRST", "DEFAULT_ORDER", "ZERO", "Allocation", "AllocationError",
    "AllocationOrder", "Component", "Due", "InstallmentState", "LoanState", "Parts", "Payment",
    "PaymentRefused", "Refusal", "Share", "allocate", "due_problems", "payment_problems",
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


def due_problems(dues: Sequence[Due]) -> list[str]:
    """Every reason these dues cannot be replayed over (empty when they can)."""
    out: list[str] = []
    for d in dues:
        for c in COMPONENTS:
            value = d.parts.get(c)
            if not value.is_finite() or value < 0:
                out.append(f"installment {d.number}: {c} {value} must be zero or more")
    numbers = [d.number for d in dues]
    if len(set(numbers)) != len(numbers):
        out.append("installment numbers must be unique")
    ordered = sorted(dues, key=lambda d: d.number)
    for before, after in pairwise(ordered):
        if after.due_date <= before.due_date:
            out.append(f"installment {after.number} must fall due after installment "
                       f"{before.number} ({before.due_date})")
    return out


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
    ordered = tuple(sorted(dues, key=lambda d: d.number))
    return _replay(ordered, order, (), (), chosen, strict=strict, as_of=as_of)


def payoff_claim(owed: Sequence[tuple[date, Parts]], as_of: date) -> tuple[Parts, ...]:
    """What closing the loan on `as_of` collects from each installment, oldest first.

    The one place the payoff rule lives: everything still owed on installments due on or
    before `as_of`; the interest and principal of the installment whose period contains
    `as_of` (the period ends on its due date); only the principal of later installments.
    """
    out: list[Parts] = []
    current_seen = False
    for due_date, parts in owed:
        if due_date <= as_of:
            out.append(parts)
            current_seen = current_seen or due_date == as_of
        elif not current_seen:
            current_seen = True
            out.append(Parts(interest=parts.interest, principal=parts.principal))
        else:
            out.append(Parts(principal=parts.principal))
    return tuple(out)


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


class _Book:
    """The mutable working copy of one replay; frozen into a `LoanState` at the end."""

    def __init__(self, dues: tuple[Due, ...]) -> None:
        self.dues = dues
        # Due amounts as plain dicts: `owed` runs for every slot of every payment replayed.
        self.due: list[dict[str, Decimal]] = [{c: getattr(d, c) for c in COMPONENTS} for d in dues]
        self.paid = [dict.fromkeys(COMPONENTS, ZERO) for _ in dues]
        self.waived = [dict.fromkeys(COMPONENTS, ZERO) for _ in dues]
        self.done: list[date | None] = [None] * len(dues)
        self.index = {d.number: i for i, d in enumerate(dues)}

    def owed(self, i: int, c: Component) -> Decimal:
        return self.due[i][c] - self.paid[i][c] - self.waived[i][c]

    def owed_parts(self, i: int) -> Parts:
        return Parts(*(self.owed(i, c) for c in COMPONENTS))

    def record(self, allocation: Allocation) -> None:
        """Apply an allocation already decided."""
        for target, shares in ((self.paid, allocation.shares), (self.waived, allocation.waived)):
            for s in shares:
                row = target[self.index[s.number]]
                for c in COMPONENTS:
                    row[c] += s.parts.get(c)
        for s in (*allocation.shares, *allocation.waived):
            i = self.index[s.number]
            if self.done[i] is None and self.owed_parts(i).total == 0:
                self.done[i] = allocation.payment.paid_on

    def decide(self, payment: Payment, order: AllocationOrder) -> Allocation | Refusal:
        """Split one payment, or refuse it, given everything recorded so far."""
        day, amount = payment.paid_on, payment.amount
        claim = payoff_claim(
            [(d.due_date, self.owed_parts(i)) for i, d in enumerate(self.dues)], day
        )
        payoff = sum((c.total for c in claim), ZERO)
        if not amount > 0:
            return Refusal(payment, payoff, f"payment {payment.ref} on {day} of {amount:,} "
                                            "must be more than zero")
        if amount > payoff:
            return Refusal(payment, payoff, (
                f"payment {payment.ref} on {day} of {amount:,} is more than the payoff "
                f"amount of {payoff:,} on that date; it can be at most {payoff:,}"))
        if amount == payoff:
            shares = tuple(Share(d.number, c) for d, c in zip(self.dues, claim, strict=True)
                           if c.total)
            waived = tuple(Share(d.number, self.owed_parts(i) - c)
                           for i, (d, c) in enumerate(zip(self.dues, claim, strict=True))
                           if (self.owed_parts(i) - c).total)
            return Allocation(payment, shares, payoff=True, waived=waived)
        taken = [dict.fromkeys(COMPONENTS, ZERO) for _ in self.dues]
        left = amount
        for i, c in self._targets(day, order):
            take = min(left, self.owed(i, c))
            taken[i][c] += take
            left -= take
            if left == 0:
                break
        shares = tuple(Share(d.number, Parts(**t)) for d, t in zip(self.dues, taken, strict=True)
                       if any(t.values()))
        return Allocation(payment, shares)

    def _targets(self, day: date, order: AllocationOrder) -> list[tuple[int, Component]]:
        # The (installment, component) slots a payment fills, first to last.
        indices = range(len(self.dues))
        if order.installment_first:
            return [(i, c) for i in indices for c in order.components]
        due = [i for i in indices if self.dues[i].due_date <= day]
        ahead = [i for i in indices if self.dues[i].due_date > day]
        return [(i, c) for c in order.components for i in due] + [
            (i, c) for i in ahead for c in order.components
        ]

    def freeze(self) -> tuple[InstallmentState, ...]:
        return tuple(
            InstallmentState(d, Parts(**self.paid[i]), Parts(**self.waived[i]), self.done[i])
            for i, d in enumerate(self.dues)
        )


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
