"""Schedules published in Apache Fineract's own tests, reproduced row by row.

Each case quotes the loan exactly as the Fineract test applies for it and the expected rows that
test asserts. Fineract states rates per period; "2 % per month" is an annual 24 %.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from ledger.loan_terms import (
    Amortization,
    FrequencyUnit,
    InterestMethod,
    LoanTerms,
    RatePeriod,
)
from ledger.money import USD
from ledger.schedule import build_schedule


def _rows(terms: LoanTerms) -> list[tuple[date, str, str]]:
    return [
        (i.due_date, str(i.principal), str(i.interest)) for i in build_schedule(terms).installments
    ]


# Source: repository apache/fineract, file
# mifosng-provider/src/integrationTest/java/org/mifosplatform/integrationtests/
# ClientLoanIntegrationTest.java (commit 0f6079b8e941906dddd4ac920058280a32fec37c),
# checkClientLoanCreateAndDisburseFlow / verifyLoanRepaymentSchedule:
# principal 12,000.00, 4 monthly repayments, 2 % per month, declining balance, equal
# installments, interest "same as repayment period", disbursed 20 September 2011.
def test_fineract_client_loan_monthly_declining_equal_installments() -> None:
    terms = LoanTerms(
        principal=Decimal("12000.00"),
        currency=USD,
        rate=Decimal(2),
        rate_period=RatePeriod.MONTH,
        method=InterestMethod.DECLINING,
        amortization=Amortization.EQUAL_INSTALLMENTS,
        repayments=4,
        disbursed_on=date(2011, 9, 20),
    )
    assert _rows(terms) == [
        (date(2011, 10, 20), "2911.49", "240.00"),
        (date(2011, 11, 20), "2969.72", "181.77"),
        (date(2011, 12, 20), "3029.11", "122.38"),
        (date(2012, 1, 20), "3089.68", "61.79"),
    ]


def _weekly_fineract_loan(grace_interest: int = 0) -> LoanTerms:
    # The loan applied for by applyForLoanApplicationForInterestRecalculation in Fineract's
    # ClientLoanIntegrationTest (package org.mifosplatform.integrationtests, apache/fineract
    # lineage): principal 10000.00, 4 weekly repayments, 2 % per month, declining balance,
    # equal installments, interest same as repayment period. Its first schedule (before any
    # repayment) is the plain cumulative schedule.
    return LoanTerms(
        principal=Decimal("10000.00"),
        currency=USD,
        rate=Decimal(2),
        rate_period=RatePeriod.MONTH,
        method=InterestMethod.DECLINING,
        amortization=Amortization.EQUAL_INSTALLMENTS,
        repayments=4,
        disbursed_on=date(2015, 3, 2),
        unit=FrequencyUnit.WEEK,
        grace_interest=grace_interest,
    )


# Source: Fineract ClientLoanIntegrationTest (org.mifosplatform.integrationtests, apache/fineract
# lineage), testLoanScheduleWithInterestRecalculation_WITH_PERIODIC_ACCOUNTING: expected rows
# ("2482.76", "46.15"), ("2494.22", "34.69"), ("2505.73", "23.18"), ("2517.29", "11.62"),
# due every 7 days after disbursement. The weekly rate is 24 / 52 / 100.
def test_fineract_weekly_declining_equal_installments() -> None:
    terms = _weekly_fineract_loan()
    start = terms.disbursed_on
    assert _rows(terms) == [
        (start + timedelta(days=7), "2482.76", "46.15"),
        (start + timedelta(days=14), "2494.22", "34.69"),
        (start + timedelta(days=21), "2505.73", "23.18"),
        (start + timedelta(days=28), "2517.29", "11.62"),
    ]


# Source: the same Fineract test class, the "...WithMoratorium" interest-recalculation test
# applied with graceOnInterestPayment = "1" and no principal grace. Expected rows:
# ("2482.76", "0.0"), ("2494.22", "80.84"), ("2505.73", "23.18"), ("2517.29", "11.62").
# It shows Fineract's interest-grace rule: the deferred 46.15 is paid with period 2
# (46.15 + 34.69 = 80.84) while every principal part stays installment - own interest.
def test_fineract_weekly_with_interest_payment_grace() -> None:
    assert [(p, i) for _, p, i in _rows(_weekly_fineract_loan(grace_interest=1))] == [
        ("2482.76", "0.00"),
        ("2494.22", "80.84"),
        ("2505.73", "23.18"),
        ("2517.29", "11.62"),
    ]
