"""Records of the demo plan: villages, families, loans, their stories, capital and grants."""

from __future__ import annotations

import calendar
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from ledger.demo.names import Sex
from ledger.loan_terms import Amortization, InterestMethod, LoanTerms, RatePeriod
from ledger.money import KHR

AS_OF = date(2009, 6, 30)  # the day the demo ledger is "today"
PROVINCE = "Svay Rieng"
FAMILY_COUNT = 271
VILLAGE_COUNT = 10
VILLAGE_FAMILIES = (15, 40)  # fewest and most families in one village
LOAN_TOTAL = Decimal(36_600_000)
PRINCIPAL_RANGE = (100_000, 200_000)
PRINCIPAL_STEP = 10_000
MONTHLY_RATE_PCT = Decimal(1)
INSTALLMENT_MULTIPLE = Decimal(100)
HOUSE_GRANT_TOTAL = Decimal(3_596_000)
SCHOOL_GRANT_TOTAL = Decimal(1_849_000)
SCHOOL_GRANT_COUNT = 17
SCHOOL_GRANT_RANGE = (95_000, 125_000)  # a bicycle plus books, pens and a uniform
HOUSE_GRANT_RANGE = (1_650_000, 1_950_000)
FLOOD_STARTS = date(2008, 9, 1)  # installments due from here until the reschedule go unpaid
WRITE_OFF_AFTER_DAYS = 180  # the Foundation writes off only after six months without payment


class RepaymentBehaviour(StrEnum):
    """How one borrower repays; the parameters live on `DemoBehaviour`."""

    ON_TIME = "on-time"
    LATE = "late"
    PARTIAL_THEN_WRITTEN_OFF = "partial-then-written-off"
    RENEGOTIATED_AFTER_FLOOD = "renegotiated-after-flood"
    STILL_ACTIVE = "still-active"


class PaymentKind(StrEnum):
    """What a planned payment pays, so the builder never recomputes a schedule.

    INSTALLMENT: the scheduled total of installment `installment` of the current schedule.
    PAYOFF: everything outstanding (closes the loan, whatever penalties the ledger charged).
    AMOUNT: exactly `amount` riel (a partial payment).
    """

    INSTALLMENT = "installment"
    PAYOFF = "payoff"
    AMOUNT = "amount"


class GrantPurpose(StrEnum):
    """The two kinds of Saving Foundation grant in the 2008 report."""

    HOUSE_BUILDING = "house-building"
    SCHOOL_SUPPORT = "school-support"


@dataclass(frozen=True, slots=True)
class DemoVillage:
    """A real gazetteer village; `gazetteer_year` is the edition its code comes from."""

    code: str
    name_kh: str
    name_en: str
    commune_code: str
    district_code: str
    province_code: str
    gazetteer_year: int


@dataclass(frozen=True, slots=True)
class DemoFamily:
    """A registered household; `sensitive` holds (kind, note) facts shown only to some roles."""

    ref: str
    head_name: str
    head_name_latin: str
    sex: Sex
    birth_year: int
    household_size: int
    dependants: int
    village_code: str
    phone: str | None
    registered_on: date
    informal_debt: Decimal
    informal_rate_monthly_pct: Decimal | None
    sensitive: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class DemoLoan:
    """One loan of the Foundation's product: 1 % a month, declining, equal installments."""

    ref: str
    family_ref: str
    principal: Decimal
    applied_on: date
    approved_on: date
    disbursed_on: date
    repayments: int
    rate_monthly_pct: Decimal = MONTHLY_RATE_PCT

    @property
    def first_due_on(self) -> date:
        """One month after disbursement (disbursement days are 1–28, so no month-end clipping)."""
        return add_months(self.disbursed_on, 1)

    def due_on(self, number: int) -> date:
        """Due date of installment `number` (1-based) of the original schedule."""
        return add_months(self.disbursed_on, number)

    def terms(self) -> LoanTerms:
        """The contract terms to apply with; the ledger's schedule function does the rest."""
        return LoanTerms(
            principal=self.principal, currency=KHR, rate=self.rate_monthly_pct,
            rate_period=RatePeriod.MONTH, method=InterestMethod.DECLINING,
            amortization=Amortization.EQUAL_INSTALLMENTS, repayments=self.repayments,
            disbursed_on=self.disbursed_on, first_due_on=self.first_due_on,
            multiple=INSTALLMENT_MULTIPLE,
        )


@dataclass(frozen=True, slots=True)
class DemoRepayment:
    """A payment to post. `schedule_no` is 0 for the original schedule, 1 after a reschedule."""

    loan_ref: str
    paid_on: date
    kind: PaymentKind
    installment: int | None = None
    amount: Decimal | None = None
    schedule_no: int = 0


@dataclass(frozen=True, slots=True)
class DemoReschedule:
    """A renegotiation: the outstanding balance gets a new term starting `first_due_on`."""

    loan_ref: str
    rescheduled_on: date
    repayments: int
    first_due_on: date
    reason: str


@dataclass(frozen=True, slots=True)
class DemoWriteOff:
    """Writing off what is still outstanding on `written_off_on`."""

    loan_ref: str
    written_off_on: date
    reason: str


@dataclass(frozen=True, slots=True)
class DemoRecovery:
    """Money collected on a loan after it was written off."""

    loan_ref: str
    recovered_on: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class DemoBehaviour:
    """One loan's story: its payments in date order plus any reschedule, write-off, recovery.

    `days_late` gives, per original installment that was paid, days after its due date
    (negative means early). Post payments before `reschedule.rescheduled_on`, then the
    reschedule, then the rest; the write-off after the last payment, the recovery after that.
    """

    loan_ref: str
    kind: RepaymentBehaviour
    days_late: tuple[int, ...]
    payments: tuple[DemoRepayment, ...]
    reschedule: DemoReschedule | None = None
    write_off: DemoWriteOff | None = None
    recovery: DemoRecovery | None = None


@dataclass(frozen=True, slots=True)
class DemoCapital:
    """Capital received; riel is exact, the dollar figure and rate are kept for the record."""

    ref: str
    source: str
    received_on: date
    amount: Decimal
    usd_amount: Decimal | None = None
    riel_per_usd: Decimal | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class DemoGrant:
    """A Saving Foundation grant paid to a family (None for a grant to no single family)."""

    ref: str
    purpose: GrantPurpose
    family_ref: str | None
    amount: Decimal
    paid_on: date
    note: str = ""


@dataclass(frozen=True, slots=True)
class DemoPlan:
    """Everything the demo ledger holds; `behaviours[i]` belongs to `loans[i]`."""

    seed: int
    as_of: date
    villages: tuple[DemoVillage, ...]
    families: tuple[DemoFamily, ...]
    loans: tuple[DemoLoan, ...]
    behaviours: tuple[DemoBehaviour, ...]
    capital: tuple[DemoCapital, ...]
    grants: tuple[DemoGrant, ...]

    @property
    def total_principal(self) -> Decimal:
        """Σ principal disbursed (36,600,000 riel by construction)."""
        return sum((loan.principal for loan in self.loans), Decimal(0))

    @property
    def total_capital(self) -> Decimal:
        """Σ capital received, in riel."""
        return sum((c.amount for c in self.capital), Decimal(0))

    def total_grants(self, purpose: GrantPurpose | None = None) -> Decimal:
        """Σ grants paid, of one purpose or of all."""
        return sum(
            (g.amount for g in self.grants if purpose is None or g.purpose == purpose), Decimal(0)
        )

    @property
    def behaviour_counts(self) -> dict[RepaymentBehaviour, int]:
        """How many loans follow each behaviour."""
        return dict(Counter(b.kind for b in self.behaviours))


# IOM's contribution arrived in dollars; the riel credited is usd × rate exactly.
CAPITAL: tuple[DemoCapital, ...] = (
    DemoCapital("C1", "IOM", date(2007, 1, 8), Decimal(20_750_000), Decimal("5000.00"),
                Decimal(4150), "IOM capital contribution, first tranche"),
    DemoCapital("C2", "Svay Rieng provincial budget", date(2007, 3, 5), Decimal(2_000_000),
                note="Provincial contribution to the loan fund"),
    DemoCapital("C3", "IOM", date(2007, 7, 2), Decimal(16_320_000), Decimal("4000.00"),
                Decimal(4080), "IOM capital contribution, second tranche"),
    DemoCapital("C4", "IOM", date(2008, 1, 7), Decimal(8_020_000), Decimal("2000.00"),
                Decimal(4010), "IOM capital contribution, third tranche"),
)

# Disbursement windows chosen so that each story fits before AS_OF (see _behaviour).
_WINDOWS: dict[RepaymentBehaviour, tuple[date, date]] = {
    RepaymentBehaviour.ON_TIME: (date(2007, 1, 20), date(2008, 6, 28)),
    RepaymentBehaviour.LATE: (date(2007, 1, 20), date(2008, 3, 31)),
    RepaymentBehaviour.PARTIAL_THEN_WRITTEN_OFF: (date(2007, 1, 20), date(2007, 12, 28)),
    RepaymentBehaviour.RENEGOTIATED_AFTER_FLOOD: (date(2007, 12, 1), date(2008, 6, 28)),
    RepaymentBehaviour.STILL_ACTIVE: (date(2008, 10, 1), date(2008, 12, 20)),
}
# Rural districts the programme worked in (the town and Bavet are left out).


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clipped to the month's last day when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))

