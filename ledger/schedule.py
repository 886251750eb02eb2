"""The schedule engine: one pure function from loan terms to a repayment schedule.

It follows Apache Fineract's cumulative schedule rules (LoanApplicationTerms and the
declining-balance / flat generators) so that a ledger migrated from Mifos/Fineract shows the
same schedule to the cent, with interest calculated "same as repayment period":

- r = annual rate / periods per year (12 or 52) / 100 x every; day counts never change r.
- Amounts are rounded HALF_EVEN to the currency's digits at each step, as Fineract's Money does.
- Declining, equal installments: a fixed installment from Fineract's PMT (computed in binary
  floating point, see `_fineract_pmt`), interest on the opening balance, principal = the rest.
- Declining, equal principal: principal P / (n - g) each period, interest on the opening balance.
- Flat: total interest rnd(P x r x n) spread evenly; with a multiple M, each principal part is
  nudged so that principal + interest is a multiple of M.
- Interest-only: interest on P each period, all principal in the last.
- The last installment takes whatever principal (and, for flat, interest) is left, so the
  residuals of rounding are visible there.

Everything is `Decimal`; the only float is inside `_fineract_pmt`, on purpose.
"""

from __future__ import annotations

import calendar
import math
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal

from ledger.loan_terms import (
    Amortization,
    FrequencyUnit,
    Installment,
    InterestMethod,
    LoanTerms,
    Schedule,
)
from ledger.money import round_to_multiple

__all__ = ["build_schedule", "due_dates", "periodic_rate"]

# Fineract divides rates in a MathContext of 12 significant digits, HALF_EVEN
# (MoneyHelper.getMathContext); using the same keeps weekly rates such as 12 % / 52 identical.
_RATE_CONTEXT = Context(prec=12, rounding=ROUND_HALF_EVEN)
# Products and quotients of money are done with ample precision, then rounded once, so the
# only rounding that matters is the named one to the currency's digits.
_EXACT = Context(prec=60, rounding=ROUND_HALF_EVEN)
_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


def periodic_rate(terms: LoanTerms) -> Decimal:
    """The interest rate of one repayment period as a fraction (0.01 for 1 % a month).

    Annual rate (a monthly quote times 12) / 12 or 52 / 100, times `every` — in that order and
    at Fineract's 12-digit precision, so the rate matches Fineract's for every input.
    """
    per_year = 12 if terms.unit == FrequencyUnit.MONTH else 52
    per_unit = _RATE_CONTEXT.divide(terms.annual_rate, Decimal(per_year))
    return _RATE_CONTEXT.divide(per_unit, _HUNDRED) * terms.every


def _add_months(seed: date, months: int) -> date:
    """`seed` plus whole months, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    year, month0 = divmod(seed.month - 1 + months, 12)
    year += seed.year
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(seed.day, last_day))


def due_dates(terms: LoanTerms) -> tuple[date, ...]:
    """The due date of every installment, in order.

    Each date is computed from the seed, never from the previous due date, so a loan seeded on
    31 January falls due 28 February, then 31 March. The seed is the disbursement date (first
    due date one period later) or, when given, `first_due_on` itself (the first due date).
    """
    if terms.first_due_on is not None:
        seed, first_step = terms.first_due_on, 0
    else:
        seed, first_step = terms.disbursed_on, 1
    steps = range(first_step, first_step + terms.repayments)
    if terms.unit == FrequencyUnit.WEEK:
        return tuple(seed + timedelta(weeks=k * terms.every) for k in steps)
    return tuple(_add_months(seed, k * terms.every) for k in steps)


def _fineract_pmt(rate: Decimal, periods: int, balance: Decimal) -> Decimal:
    """The unrounded equal installment, computed in binary floating point exactly as Fineract.

    Fineract's FinanicalFunctions.pmt and LoanApplicationTerms.paymentPerPeriod work in Java
    `double`; a schedule that must match Fineract to the cent has to reproduce that arithmetic,
    including its last-bit behaviour, and only then convert to Decimal (through repr, like
    Java's BigDecimal.valueOf(double)). This is the one place in the ledger that uses float.
    """
    rate_f = float(rate)  # float on purpose: Fineract's PMT works in double
    principal_f = -float(balance)  # float on purpose: Fineract passes -balance as a double
    periods_f = float(periods)  # float on purpose: Fineract passes the period count as a double
    if rate_f == 0:
        payment = -principal_f / periods_f
    else:
        growth = math.pow(rate_f + 1, periods_f)
        payment = (principal_f * growth) * rate_f / (1 - growth)
    return Decimal(repr(payment))


def _fixed_installment(terms: LoanTerms, rate: Decimal, quantum: Decimal) -> Decimal:
    """The declining-balance equal installment: PMT over n - g periods, rounded.

    With a multiple M the PMT is rounded to the nearest multiple the way Fineract's
    Money.roundToMultiplesOf(double, int) does (an exact tie goes up); without M it is rounded
    HALF_EVEN to the currency's digits. A multiple so large that the installment would round to
    nothing is ignored rather than producing a zero installment.
    """
    raw = _fineract_pmt(rate, terms.repayments - terms.grace_principal, terms.principal)
    plain = raw.quantize(quantum, rounding=ROUND_HALF_EVEN)
    if terms.multiple is None:
        return plain
    m = terms.multiple
    rounded = (raw / m).quantize(Decimal(1), rounding=ROUND_HALF_UP) * m
    rounded = rounded.quantize(quantum, rounding=ROUND_HALF_EVEN)
    return rounded if rounded > 0 else plain


def build_schedule(terms: LoanTerms) -> Schedule:
    """Build the repayment schedule of `terms` (pure, exact, the same for every consumer).

    Grace: for the first `grace_principal` periods no principal is due (the equal installment
    or equal principal is spread over the rest); for the first `grace_interest` periods interest
    is still computed but shown as zero and its payment moves to the next period.
    """
    quantum = terms.currency.quantum
    rate = periodic_rate(terms)
    dates = due_dates(terms)
    if terms.method == InterestMethod.FLAT:
        rows = _flat_rows(terms, rate, quantum)
    else:
        rows = _declining_rows(terms, rate, quantum)
    installments = tuple(
        Installment(number=k + 1, due_date=dates[k], principal=p, interest=i, balance=b)
        for k, (p, i, b) in enumerate(rows)
    )
    return Schedule(terms=terms, installments=installments)


def _declining_rows(
    terms: LoanTerms, rate: Decimal, quantum: Decimal
) -> list[tuple[Decimal, Decimal, Decimal]]:
    """Rows (principal, interest, balance) for declining balance and interest-only loans."""
    n, g, h = terms.repayments, terms.grace_principal, terms.grace_interest
    method, amortization = terms.method, terms.amortization
    zero = _ZERO.quantize(quantum)
    emi = equal_principal = zero
    if method == InterestMethod.DECLINING:
        if amortization == Amortization.EQUAL_INSTALLMENTS:
            emi = _fixed_installment(terms, rate, quantum)
        else:
            equal_principal = _EXACT.divide(terms.principal, Decimal(n - g)).quantize(
                quantum, rounding=ROUND_HALF_EVEN
            )
    balance, deferred = terms.principal, zero
    rows: list[tuple[Decimal, Decimal, Decimal]] = []
    for k in range(1, n + 1):
        own = _EXACT.multiply(balance, rate).quantize(quantum, rounding=ROUND_HALF_EVEN)
        if k <= h:
            # Interest-payment grace: computed now, paid with the first period after grace.
            deferred, interest = deferred + own, zero
        else:
            deferred, interest = zero, own + deferred
        if k == n:
            principal = balance
        elif method == InterestMethod.INTEREST_ONLY or k <= g:
            principal = zero
        elif amortization == Amortization.EQUAL_INSTALLMENTS:
            # Fineract takes the principal as the installment less this period's own interest,
            # so interest paid late (after grace) comes on top of the installment.
            principal = emi - own
        else:
            principal = equal_principal
        # Never repay more than is owed (Fineract's adjustPrincipalIfLastRepaymentPeriod).
        principal = min(principal, balance)
        balance -= principal
        if balance == 0 and k < n:
            # Paid off early (rounding to a large multiple): this row ends the loan and takes
            # any interest still deferred, as Fineract stops generating once nothing is owed.
            rows.append((principal, interest + deferred, balance))
            break
        rows.append((principal, interest, balance))
    return rows


def _flat_rows(
    terms: LoanTerms, rate: Decimal, quantum: Decimal
) -> list[tuple[Decimal, Decimal, Decimal]]:
    """Rows (principal, interest, balance) for flat interest (either amortization)."""
    n, g, h, m = terms.repayments, terms.grace_principal, terms.grace_interest, terms.multiple
    total_interest = _EXACT.multiply(_EXACT.multiply(terms.principal, rate), Decimal(n)).quantize(
        quantum, rounding=ROUND_HALF_EVEN
    )
    per_interest = _EXACT.divide(total_interest, Decimal(n)).quantize(
        quantum, rounding=ROUND_HALF_EVEN
    )
    per_principal = _EXACT.divide(terms.principal, Decimal(n - g)).quantize(
        quantum, rounding=ROUND_HALF_EVEN
    )
    zero = _ZERO.quantize(quantum)
    balance, deferred, interest_so_far = terms.principal, zero, zero
    rows: list[tuple[Decimal, Decimal, Decimal]] = []
    for k in range(1, n + 1):
        if k <= h:
            deferred, interest = deferred + per_interest, zero
        else:
            deferred, interest = zero, per_interest + deferred
        interest = min(interest, total_interest - interest_so_far)
        if k == n:
            principal, interest = balance, total_interest - interest_so_far
        else:
            principal = zero if k <= g else per_principal
            if m is not None:
                # Fineract: principal 416.67 -> 417, interest 12.50 -> 13, so the principal part
                # becomes 417 + 13 - 12.50 = 417.50 and the installment is a multiple of M.
                principal = (
                    round_to_multiple(principal, m) + round_to_multiple(interest, m) - interest
                ).quantize(quantum, rounding=ROUND_HALF_EVEN)
            principal = min(principal, balance)
        balance -= principal
        interest_so_far += interest
        if balance == 0 and k < n:
            rows.append((principal, interest + total_interest - interest_so_far, balance))
            break
        rows.append((principal, interest, balance))
    return rows
