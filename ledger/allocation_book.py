"""The working copy of one allocation replay (`_Book`) and the payoff rule it applies.

Kept apart from `ledger.allocation`, whose `allocate`, `LoanState` and `Replay` drive it; this
is the linear-time bookkeeping those results come from.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from decimal import Decimal

from ledger.allocation_records import (
    COMPONENTS,
    ZERO,
    Allocation,
    AllocationOrder,
    Component,
    Due,
    InstallmentState,
    Parts,
    Payment,
    Refusal,
    Share,
)

__all__ = ["payoff_claim"]

# Position of each component in a `_Book` row (the field order of `Parts`).
_AT = {c: k for k, c in enumerate(COMPONENTS)}


# What the payoff claims of one installment (see `_claims`).
_ALL, _INTEREST_AND_PRINCIPAL, _PRINCIPAL = 0, 1, 2


def _claims(due_dates: Iterable[date], as_of: date) -> list[int]:
    # The payoff rule by installment, oldest first (see `payoff_claim`).
    out: list[int] = []
    current_seen = False
    for due_date in due_dates:
        if due_date <= as_of:
            out.append(_ALL)
            current_seen = current_seen or due_date == as_of
        elif not current_seen:
            current_seen = True
            out.append(_INTEREST_AND_PRINCIPAL)
        else:
            out.append(_PRINCIPAL)
    return out


def payoff_claim(owed: Sequence[tuple[date, Parts]], as_of: date) -> tuple[Parts, ...]:
    """What closing the loan on `as_of` collects from each installment, oldest first.

    The one place the payoff rule lives: everything still owed on installments due on or
    before `as_of`; the interest and principal of the installment whose period contains
    `as_of` (the period ends on its due date); only the principal of later installments.
    """
    out: list[Parts] = []
    for (_, parts), claim in zip(owed, _claims((d for d, _ in owed), as_of), strict=True):
        if claim == _ALL:
            out.append(parts)
        elif claim == _INTEREST_AND_PRINCIPAL:
            out.append(Parts(interest=parts.interest, principal=parts.principal))
        else:
            out.append(Parts(principal=parts.principal))
    return tuple(out)


class _Book:
    """The mutable working copy of one replay; frozen into a `LoanState` at the end.

    Rows are lists in `Parts` field order (penalty, fee, interest, principal). A replay stays
    linear in the payments instead of payments x installments, without changing a single
    result (Decimal exponents included):
    - what each slot still owes (due - paid - waived) is kept per installment and refreshed
      when the installment is paid or forgiven, instead of recomputed for every read;
    - a payment below the principal still owed cannot reach the payoff amount (the payoff
      claims at least every installment's principal); above that bound the payoff is first
      summed as a number, and its claim is built installment by installment only for a
      payment that it refuses or that closes the loan;
    - installment-first order starts at the first installment still owed (`first_open`):
      the full slot loop only subtracted the settled ones' zeros from what was left, which
      `prefix_zero` (the sum of those zeros) reproduces exactly.
    """

    def __init__(self, dues: tuple[Due, ...]) -> None:
        self.dues = dues
        self.due: list[list[Decimal]] = []
        self.owing: list[list[Decimal]] = []
        totals: list[Decimal] = []
        for d in dues:
            row = [d.penalty, d.fee, d.interest, d.principal]
            self.due.append(row)
            # due - paid - waived with nothing paid yet: x - 0 - 0 (whose exponent is that
            # of x - 0) as `_refresh` computes it.
            self.owing.append([row[0] - ZERO, row[1] - ZERO, row[2] - ZERO, row[3] - ZERO])
            totals.append(row[0] + row[1] + row[2] + row[3])
        self.paid = [[ZERO] * 4 for _ in dues]
        self.waived = [[ZERO] * 4 for _ in dues]
        self.done: list[date | None] = [None] * len(dues)
        self.index = {d.number: i for i, d in enumerate(dues)}
        self.owes = [bool(t) for t in totals]
        # Principal still owed on the whole schedule: a lower bound of every payoff amount.
        self.owed_principal = sum((row[3] for row in self.due), ZERO)
        self.owed_total = sum(totals, ZERO)
        self.first_open = 0
        self.prefix_zero: Decimal | None = None
        self._advance()

    def owed(self, i: int, c: Component) -> Decimal:
        return self.owing[i][_AT[c]]

    def owed_parts(self, i: int) -> Parts:
        return Parts(*self.owing[i])

    def _refresh(self, i: int) -> None:
        due, paid, waived = self.due[i], self.paid[i], self.waived[i]
        self.owing[i] = [due[0] - paid[0] - waived[0], due[1] - paid[1] - waived[1],
                         due[2] - paid[2] - waived[2], due[3] - paid[3] - waived[3]]

    def _advance(self) -> None:
        # Move `first_open` past installments with nothing left owed (they never change
        # again), adding each one's zeros into `prefix_zero`. An installment that was due
        # something is settled exactly when `record` marked it done.
        done, owes = self.done, self.owes
        while self.first_open < len(done):
            i = self.first_open
            if done[i] is None and owes[i]:
                return
            zeros = self.owing[i]
            if any(zeros):
                return
            for z in zeros:
                self.prefix_zero = z if self.prefix_zero is None else self.prefix_zero + z
            self.first_open += 1

    def record(self, allocation: Allocation) -> None:
        """Apply an allocation already decided."""
        for target, shares in ((self.paid, allocation.shares), (self.waived, allocation.waived)):
            for s in shares:
                i = self.index[s.number]
                row, parts = target[i], s.parts
                row[0] += parts.penalty
                row[1] += parts.fee
                row[2] += parts.interest
                row[3] += parts.principal
                self._refresh(i)
                self.owed_principal -= parts.principal
                self.owed_total -= parts.total
        for s in (*allocation.shares, *allocation.waived):
            i = self.index[s.number]
            o = self.owing[i]
            if self.done[i] is None and o[0] + o[1] + o[2] + o[3] == 0:
                self.done[i] = allocation.payment.paid_on
        self._advance()

    def take(self, payment: Payment, slots: Sequence[int]) -> list[Decimal] | None:
        """`decide` then `record` for a payment below the payoff amount, in
        installment-first order (`slots`: its component positions), without building its
        `Allocation`: the same operations on the same amounts. Gives the payment's split (a
        `Parts` row), or None (and changes nothing) for any other payment."""
        amount = payment.amount
        if not (amount > 0 and (amount < self.owed_principal
                                or amount < self._payoff_value(payment.paid_on))):
            return None
        split = [ZERO] * 4
        for i, taken in self._takes(amount, slots):
            if not any(taken):
                continue
            # What `record` does with this installment's share.
            row = self.paid[i]
            for k in range(4):
                row[k] += taken[k]
                split[k] += taken[k]
            self._refresh(i)
            self.owed_principal -= taken[3]
            self.owed_total -= taken[0] + taken[1] + taken[2] + taken[3]
            now = self.owing[i]
            if self.done[i] is None and now[0] + now[1] + now[2] + now[3] == 0:
                self.done[i] = payment.paid_on
        self._advance()
        return split

    def decide(self, payment: Payment, order: AllocationOrder) -> Allocation | Refusal:
        """Split one payment, or refuse it, given everything recorded so far."""
        amount = payment.amount
        if amount > 0 and amount < self.owed_principal:
            # Below every possible payoff amount: neither refused nor a payoff.
            if order.installment_first:
                return Allocation(payment, self._fill_installments(amount, order))
            return Allocation(payment, self._fill(payment.paid_on, amount, order))
        day = payment.paid_on
        if amount > 0 and amount < self._payoff_value(day):
            # Below the payoff amount: a plain fill (the exact payoff is only needed to
            # refuse a payment or to close the loan with it).
            if order.installment_first:
                return Allocation(payment, self._fill_installments(amount, order))
            return Allocation(payment, self._fill(day, amount, order))
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
            # Settled installments (before `first_open`) owe nothing, so forgive nothing.
            left_over = ((i, self.owed_parts(i) - claim[i])
                         for i in range(self.first_open, len(self.dues)))
            waived = tuple(Share(self.dues[i].number, w) for i, w in left_over if w.total)
            return Allocation(payment, shares, payoff=True, waived=waived)
        return Allocation(payment, self._fill(day, amount, order))

    def _payoff_value(self, day: date) -> Decimal:
        # The payoff amount on `day` as a number (`payoff_claim`'s rule, without its parts).
        total = ZERO
        claims = _claims((d.due_date for d in self.dues), day)
        for i in range(self.first_open, len(self.dues)):
            o, claim = self.owing[i], claims[i]
            if claim == _ALL:
                total += o[0] + o[1] + o[2] + o[3]
            elif claim == _INTEREST_AND_PRINCIPAL:
                total += o[2] + o[3]
            else:
                total += o[3]
        return total

    def _takes(self, amount: Decimal, slots: Sequence[int]
               ) -> Iterator[tuple[int, list[Decimal]]]:
        # `_fill` in installment-first order, from the first installment still owed: what
        # each installment reached takes. `o if o < left else left` is `min(left, o)`.
        left = amount if self.prefix_zero is None else amount - self.prefix_zero
        for i in range(self.first_open, len(self.dues)):
            owing = self.owing[i]
            taken = [ZERO] * 4
            for k in slots:
                o = owing[k]
                t = o if o < left else left
                taken[k] += t
                left -= t
                if left == 0:
                    break
            yield i, taken
            if left == 0:
                return

    def _fill_installments(self, amount: Decimal, order: AllocationOrder) -> tuple[Share, ...]:
        slots = [_AT[c] for c in order.components]
        return tuple(Share(self.dues[i].number, Parts(*taken))
                     for i, taken in self._takes(amount, slots) if any(taken))

    def _fill(self, day: date, amount: Decimal, order: AllocationOrder) -> tuple[Share, ...]:
        # The slots in order, each taking what it is owed until the payment is spent.
        taken = [[ZERO] * 4 for _ in self.dues]
        left = amount
        for i, c in self._targets(day, order):
            k = _AT[c]
            take = min(left, self.owing[i][k])
            taken[i][k] += take
            left -= take
            if left == 0:
                break
        return tuple(Share(d.number, Parts(*t)) for d, t in zip(self.dues, taken, strict=True)
                     if any(t))

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
            InstallmentState(d, Parts(*self.paid[i]), Parts(*self.waived[i]), self.done[i])
            for i, d in enumerate(self.dues)
        )
