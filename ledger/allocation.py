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

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import attrgetter

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


# Position of each component in a `_Book` row (the field order of `Parts`).
_AT = {c: k for k, c in enumerate(COMPONENTS)}


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
