"""Invariants of the schedule engine over generated loans (Hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.loan_terms import (
    Amortization,
    FrequencyUnit,
    InterestMethod,
    LoanTerms,
    RatePeriod,
)
from ledger.money import KHR, USD, Currency
from ledger.schedule import build_schedule, due_dates

FAST = settings(max_examples=200, deadline=None)


@st.composite
def loan_terms(
    draw: st.DrawFn,
    methods: tuple[InterestMethod, ...] = tuple(InterestMethod),
    amortizations: tuple[Amortization, ...] = tuple(Amortization),
    with_multiple: bool | None = None,
    with_grace: bool = True,
    realistic: bool = False,
) -> LoanTerms:
    """Any valid terms; `realistic` keeps rounding small beside the installments.

    Realistic means principal >= 4 x n^2 x M (or x the currency's smallest unit without M),
    which rules out rounding so coarse that it alone repays the loan before its last
    installment (for example 100 riel over 21 months: 5 riel a month clears it in 20).
    """
    currency: Currency = draw(st.sampled_from([KHR, USD]))
    n = draw(st.integers(1, 36))
    multiples = (
        [Decimal(100), Decimal(500), Decimal(1000)]
        if currency == KHR
        else [
            Decimal(1),
            Decimal(5),
            Decimal("0.50"),
        ]
    )
    use_multiple = draw(st.booleans()) if with_multiple is None else with_multiple
    multiple = draw(st.sampled_from(multiples)) if use_multiple else None
    lowest = 1
    if realistic:
        step = multiple / currency.quantum if multiple is not None else Decimal(1)
        lowest = int(step * 4 * n * n)
    minor = draw(st.integers(max(lowest, 100), max(lowest, 100) * 1000))
    principal = Decimal(minor).scaleb(-currency.digits)
    rate_period = draw(st.sampled_from(list(RatePeriod)))
    top = 500 if rate_period == RatePeriod.MONTH else 6000
    rate = Decimal(draw(st.integers(0, top))).scaleb(-2)
    unit = draw(st.sampled_from(list(FrequencyUnit)))
    every = draw(st.integers(1, 3))
    disbursed = draw(st.dates(date(2020, 1, 1), date(2030, 12, 31)))
    first_due = None
    if draw(st.booleans()):
        first_due = disbursed + timedelta(days=draw(st.integers(1, 60)))
    g = draw(st.integers(0, n - 1)) if with_grace else 0
    h = draw(st.integers(0, n - 1)) if with_grace else 0
    return LoanTerms(
        principal=principal,
        currency=currency,
        rate=rate,
        rate_period=rate_period,
        method=draw(st.sampled_from(methods)),
        amortization=draw(st.sampled_from(amortizations)),
        repayments=n,
        disbursed_on=disbursed,
        every=every,
        unit=unit,
        first_due_on=first_due,
        multiple=multiple,
        grace_principal=g,
        grace_interest=h,
    )


@FAST
@given(loan_terms())
def test_principal_parts_sum_to_the_principal(terms: LoanTerms) -> None:
    assert build_schedule(terms).total_principal == terms.principal


@FAST
@given(loan_terms())
def test_totals_are_principal_plus_interest(terms: LoanTerms) -> None:
    schedule = build_schedule(terms)
    assert schedule.total == terms.principal + schedule.total_interest
    assert schedule.total == sum(
        (i.principal + i.interest for i in schedule.installments), Decimal(0)
    )


@FAST
@given(loan_terms())
def test_balances_never_negative_and_end_at_zero(terms: LoanTerms) -> None:
    schedule = build_schedule(terms)
    opening = terms.principal
    for installment in schedule.installments:
        assert installment.balance >= 0
        assert installment.interest >= 0
        assert installment.balance == opening - installment.principal
        opening = installment.balance
    assert schedule.installments[-1].balance == 0
    assert len(schedule.installments) >= 1 and len(schedule.installments) <= terms.repayments


@FAST
@given(loan_terms())
def test_every_amount_is_at_the_currency_precision(terms: LoanTerms) -> None:
    quantum = terms.currency.quantum
    for i in build_schedule(terms).installments:
        for amount in (i.principal, i.interest, i.balance):
            assert amount == amount.quantize(quantum)


@FAST
@given(loan_terms(realistic=True))
def test_realistic_loans_have_all_their_installments(terms: LoanTerms) -> None:
    assert len(build_schedule(terms).installments) == terms.repayments


@FAST
@given(loan_terms())
def test_due_dates_strictly_increase(terms: LoanTerms) -> None:
    dates = due_dates(terms)
    assert len(dates) == terms.repayments
    assert dates[0] > terms.disbursed_on
    assert all(a < b for a, b in pairwise(dates))
    assert [i.due_date for i in build_schedule(terms).installments] == list(
        dates[: len(build_schedule(terms).installments)]
    )


# Where the multiple M shapes the installments:
# - flat (either amortization): every installment but the last is a multiple of M, grace
#   periods included, because each principal part is nudged by rndM(i) - i;
# - declining balance with equal installments and no grace: every installment but the last is
#   the same multiple of M (with grace, the grace-period rows are interest or EMI - interest);
# - declining equal principal and interest-only: M is not applied.


@FAST
@given(loan_terms(methods=(InterestMethod.FLAT,), with_multiple=True, realistic=True))
def test_flat_installments_are_multiples_of_m(terms: LoanTerms) -> None:
    assert terms.multiple is not None
    for installment in build_schedule(terms).installments[:-1]:
        assert installment.total % terms.multiple == 0


@FAST
@given(
    loan_terms(
        methods=(InterestMethod.DECLINING,),
        amortizations=(Amortization.EQUAL_INSTALLMENTS,),
        with_multiple=True,
        with_grace=False,
        realistic=True,
    )
)
def test_declining_equal_installments_are_one_multiple_of_m(terms: LoanTerms) -> None:
    assert terms.multiple is not None
    totals = {i.total for i in build_schedule(terms).installments[:-1]}
    assert len(totals) <= 1
    for total in totals:
        assert total % terms.multiple == 0
