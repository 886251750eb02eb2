"""Contract terms of a loan and the schedule records the engine produces.

Terms are immutable once a loan is disbursed; every consumer (loan-entry preview, stored
schedule, disclosure, projections) derives its numbers from these records through
`ledger.schedule.build_schedule`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from ledger.money import KHR, Currency, MoneyError, get_currency


class RatePeriod(StrEnum):
    """The period an interest rate is quoted for."""

    MONTH = "month"
    YEAR = "year"


class InterestMethod(StrEnum):
    """How interest is charged: declining balance, flat on the principal, or interest-only."""

    DECLINING = "declining"
    FLAT = "flat"
    INTEREST_ONLY = "interest-only"


class Amortization(StrEnum):
    """How principal is spread: equal total installments, or equal principal parts."""

    EQUAL_INSTALLMENTS = "equal-installments"
    EQUAL_PRINCIPAL = "equal-principal"


class FrequencyUnit(StrEnum):
    """The unit of the repayment frequency ("repay every N months/weeks")."""

    MONTH = "month"
    WEEK = "week"


class TermsError(ValueError):
    """Terms that cannot make a schedule; `problems` lists every (field, reason)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{name}: {why}" for name, why in problems))


def default_multiple(currency: Currency) -> Decimal | None:
    """The installment multiple a currency gets when none is given: 100 riel, else none."""
    return Decimal(100) if currency == KHR else None


@dataclass(frozen=True, slots=True)
class LoanTerms:
    """Everything that fixes a loan's schedule. `rate` is in percent per `rate_period`.

    `multiple` is the "installments in multiples of" setting; None means rounding to the
    currency's digits only.
    """

    principal: Decimal
    currency: Currency
    rate: Decimal
    rate_period: RatePeriod
    method: InterestMethod
    amortization: Amortization
    repayments: int
    disbursed_on: date
    every: int = 1
    unit: FrequencyUnit = FrequencyUnit.MONTH
    first_due_on: date | None = None
    multiple: Decimal | None = None
    grace_principal: int = 0
    grace_interest: int = 0

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise TermsError(problems)

    def problems(self) -> list[tuple[str, str]]:
        """Every reason these terms cannot make a schedule (empty when they can)."""
        out: list[tuple[str, str]] = []
        for name in ("principal", "rate"):
            value = getattr(self, name)
            if isinstance(value, float) or not isinstance(value, Decimal):
                out.append((name, "must be a Decimal, never a float"))
        if out:
            return out
        cur = get_currency(self.currency)
        if self.principal <= 0:
            out.append(("principal", "must be more than zero"))
        elif self.principal != self.principal.quantize(cur.quantum):
            out.append(("principal", f"has more precision than {cur.code} allows"))
        if self.rate < 0:
            out.append(("rate", "cannot be negative"))
        if self.repayments < 1:
            out.append(("repayments", "must be at least 1"))
        if self.every < 1:
            out.append(("every", "must be at least 1"))
        if self.grace_principal < 0 or self.grace_interest < 0:
            out.append(("grace", "cannot be negative"))
        if self.repayments >= 1 and self.grace_principal >= self.repayments:
            out.append(("grace_principal", "must leave at least one repayment of principal"))
        if self.repayments >= 1 and self.grace_interest >= self.repayments:
            out.append(("grace_interest", "must leave at least one repayment of interest"))
        if self.multiple is not None and self.multiple <= 0:
            out.append(("multiple", "must be more than zero"))
        if self.first_due_on is not None and self.first_due_on <= self.disbursed_on:
            out.append(("first_due_on", "must be after the disbursement date"))
        return out

    @property
    def periods_per_year(self) -> Decimal:
        """Repayment periods a year: 12/N monthly, 52/N weekly (Fineract's convention)."""
        base = 12 if self.unit == FrequencyUnit.MONTH else 52
        return Decimal(base) / Decimal(self.every)

    @property
    def annual_rate(self) -> Decimal:
        """Nominal annual rate in percent; a monthly quote is multiplied by 12."""
        return self.rate * 12 if self.rate_period == RatePeriod.MONTH else self.rate


@dataclass(frozen=True, slots=True)
class Installment:
    """One scheduled repayment; `balance` is the principal outstanding after it."""

    number: int
    due_date: date
    principal: Decimal
    interest: Decimal
    balance: Decimal
    fee: Decimal = Decimal(0)

    @property
    def total(self) -> Decimal:
        """What the borrower pays on this due date."""
        return self.principal + self.interest + self.fee


@dataclass(frozen=True, slots=True)
class Schedule:
    """A loan's repayment schedule; installments are a tuple so the record stays immutable."""

    terms: LoanTerms
    installments: tuple[Installment, ...] = field(default_factory=tuple)

    @property
    def currency(self) -> Currency:
        """The loan's currency."""
        return self.terms.currency

    @property
    def total_principal(self) -> Decimal:
        """Sum of the principal parts; always equals the loan's principal."""
        return sum((i.principal for i in self.installments), Decimal(0))

    @property
    def total_interest(self) -> Decimal:
        """Sum of the interest parts."""
        return sum((i.interest for i in self.installments), Decimal(0))

    @property
    def total(self) -> Decimal:
        """Everything the borrower repays."""
        return sum((i.total for i in self.installments), Decimal(0))


__all__ = [
    "Amortization",
    "FrequencyUnit",
    "Installment",
    "InterestMethod",
    "LoanTerms",
    "MoneyError",
    "RatePeriod",
    "Schedule",
    "TermsError",
    "default_multiple",
]
