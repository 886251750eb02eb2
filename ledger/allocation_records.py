"""The records of repayment allocation: dues, payments, parts, shares, refusals, states.

`ledger.allocation` replays payments over dues and returns these; they carry no logic beyond
sums and checks, so reports and services can use them without the replay.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from operator import attrgetter
from typing import Literal

from ledger.loan_terms import Installment

Component = Literal["penalty", "fee", "interest", "principal"]
COMPONENTS: tuple[Component, ...] = ("penalty", "fee", "interest", "principal")
ZERO = Decimal(0)


class AllocationError(ValueError):
    """Dues or payments that cannot be replayed; `problems` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def _require_decimal(owner: str, name: str, value: object) -> None:
    # Same door as Money: a float never becomes an amount.
    if type(value) is Decimal:
        return
    if isinstance(value, bool) or not isinstance(value, Decimal):
        raise TypeError(f"{owner}.{name} must be a Decimal, not {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class Parts:
    """An amount split by component (what is due, paid, waived or outstanding)."""

    penalty: Decimal = ZERO
    fee: Decimal = ZERO
    interest: Decimal = ZERO
    principal: Decimal = ZERO

    def get(self, component: Component) -> Decimal:
        """The amount of one component."""
        value: Decimal = getattr(self, component)
        return value

    @property
    def total(self) -> Decimal:
        """All components together."""
        return self.penalty + self.fee + self.interest + self.principal

    # Spelled out field by field: replays and bulk posting add parts for every payment.
    def __add__(self, other: Parts) -> Parts:
        return Parts(self.penalty + other.penalty, self.fee + other.fee,
                     self.interest + other.interest, self.principal + other.principal)

    def __sub__(self, other: Parts) -> Parts:
        return Parts(self.penalty - other.penalty, self.fee - other.fee,
                     self.interest - other.interest, self.principal - other.principal)


def _sum_parts(items: Iterable[Parts]) -> Parts:
    total = Parts()
    for item in items:
        total = total + item
    return total


@dataclass(frozen=True, slots=True)
class Due:
    """What one installment asks for, as stored with the loan's schedule."""

    number: int
    due_date: date
    principal: Decimal
    interest: Decimal
    fee: Decimal = ZERO
    penalty: Decimal = ZERO

    def __post_init__(self) -> None:
        if (type(self.principal) is Decimal and type(self.interest) is Decimal
                and type(self.fee) is Decimal and type(self.penalty) is Decimal):
            return  # the usual case, checked without a call per field
        for name in ("principal", "interest", "fee", "penalty"):
            _require_decimal("Due", name, getattr(self, name))

    @property
    def parts(self) -> Parts:
        """The amounts due, by component."""
        return Parts(self.penalty, self.fee, self.interest, self.principal)

    @classmethod
    def from_installment(cls, installment: Installment, penalty: Decimal = ZERO) -> Due:
        """The dues of a schedule installment (penalties are charged later, so default 0)."""
        i = installment
        return cls(i.number, i.due_date, i.principal, i.interest, i.fee, penalty)


@dataclass(frozen=True, slots=True)
class Payment:
    """One repayment received: `ref` is its stable id (ties on a date replay by ref)."""

    ref: int | str
    paid_on: date
    amount: Decimal

    def __post_init__(self) -> None:
        _require_decimal("Payment", "amount", self.amount)


@dataclass(frozen=True, slots=True)
class AllocationOrder:
    """Which component a payment pays first, and whether it finishes an installment first.

    `installment_first=True` (the default, as Fineract): each installment, oldest first, is
    paid component by component before the next. `False` ("component first"): across the
    installments due on or before the payment date, all penalties (oldest first), then all
    fees, interest, principal; anything left pays future installments installment by
    installment, so overdue principal always comes before interest paid in advance.
    """

    components: tuple[Component, ...] = COMPONENTS
    installment_first: bool = True

    def __post_init__(self) -> None:
        if sorted(self.components) != sorted(COMPONENTS):
            raise AllocationError(
                [f"an allocation order must name each of {', '.join(COMPONENTS)} exactly once"]
            )


DEFAULT_ORDER = AllocationOrder()
COMPONENT_FIRST = AllocationOrder(installment_first=False)


@dataclass(frozen=True, slots=True)
class Share:
    """The part of one payment that went to (or was forgiven on) one installment."""

    number: int
    parts: Parts


@dataclass(frozen=True, slots=True)
class Allocation:
    """How one accepted payment was split. `payoff` marks the payment that closed the loan;
    `waived` lists what that closing forgave (future interest, fees, penalties)."""

    payment: Payment
    shares: tuple[Share, ...]
    payoff: bool = False
    waived: tuple[Share, ...] = ()

    @property
    def parts(self) -> Parts:
        """The payment's split by component; its total is the payment amount."""
        return _sum_parts(s.parts for s in self.shares)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A payment not applied, with the payoff amount on its date and a reason to show."""

    payment: Payment
    payoff: Decimal
    reason: str


class PaymentRefused(AllocationError):
    """A payment that cannot be applied (more than the payoff, or not more than zero)."""

    def __init__(self, refusal: Refusal) -> None:
        self.refusal = refusal
        self.payoff = refusal.payoff
        super().__init__([refusal.reason])


@dataclass(frozen=True, slots=True)
class InstallmentState:
    """One installment after the replay. `fully_paid_on` is the date of the payment that
    left nothing outstanding (a payoff counts); None while unpaid or when nothing was due."""

    due: Due
    paid: Parts
    waived: Parts
    fully_paid_on: date | None

    @property
    def number(self) -> int:
        """The installment number."""
        return self.due.number

    @property
    def due_date(self) -> date:
        """The date the installment falls due."""
        return self.due.due_date

    @property
    def outstanding(self) -> Parts:
        """Still owed: due minus paid minus waived."""
        return self.due.parts - self.paid - self.waived

    @property
    def paid_on_time(self) -> bool:
        """Fully paid on or before its due date (the on-time repayment rate counts these)."""
        return self.fully_paid_on is not None and self.fully_paid_on <= self.due.due_date


def due_problems(dues: Sequence[Due]) -> list[str]:
    """Every reason these dues cannot be replayed over (empty when they can)."""
    out: list[str] = []
    for d in dues:
        for c, value in (("penalty", d.penalty), ("fee", d.fee), ("interest", d.interest),
                         ("principal", d.principal)):
            if not value.is_finite() or value < 0:
                out.append(f"installment {d.number}: {c} {value} must be zero or more")
    numbers = [d.number for d in dues]
    if len(set(numbers)) != len(numbers):
        out.append("installment numbers must be unique")
    ordered = sorted(dues, key=attrgetter("number"))
    for before, after in pairwise(ordered):
        if after.due_date <= before.due_date:
            out.append(f"installment {after.number} must fall due after installment "
                       f"{before.number} ({before.due_date})")
    return out
