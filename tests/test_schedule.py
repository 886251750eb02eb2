"""Hand-worked schedules for every method and amortization, due dates, grace and the EMI."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy_financial as npf
import pytest

from ledger.loan_terms import (
    Amortization,
    FrequencyUnit,
    InterestMethod,
    LoanTerms,
    RatePeriod,
)
from ledger.money import KHR, USD
from ledger.schedule import _fineract_pmt, build_schedule, due_dates, periodic_rate

D = Decimal


def riel(
    principal: int,
    method: InterestMethod = InterestMethod.DECLINING,
    amortization: Amortization = Amortization.EQUAL_INSTALLMENTS,
    repayments: int = 10,
    rate: str = "1",
    **extra: object,
) -> LoanTerms:
    """A riel loan quoted per month, disbursed 15 January 2024 unless told otherwise."""
    fields: dict[str, object] = {"disbursed_on": date(2024, 1, 15)}
    fields.update(extra)
    return LoanTerms(
        principal=D(principal),
        currency=KHR,
        rate=D(rate),
        rate_period=RatePeriod.MONTH,
        method=method,
        amortization=amortization,
        repayments=repayments,
        **fields,  # type: ignore[arg-type]
    )


def rows(terms: LoanTerms) -> list[tuple[int, int, int]]:
    """(principal, interest, balance) of each installment, as whole riel."""
    return [
        (int(i.principal), int(i.interest), int(i.balance))
        for i in build_schedule(terms).installments
    ]


# --- periodic rate -------------------------------------------------------------------------


def test_periodic_rate_monthly_quote_is_the_monthly_fraction() -> None:
    assert periodic_rate(riel(200_000)) == D("0.01")


def test_periodic_rate_annual_quote_divides_by_twelve() -> None:
    terms = LoanTerms(
        D("1000.00"),
        USD,
        D(24),
        RatePeriod.YEAR,
        InterestMethod.DECLINING,
        Amortization.EQUAL_INSTALLMENTS,
        4,
        date(2024, 1, 1),
    )
    assert periodic_rate(terms) == D("0.02")


def test_periodic_rate_weekly_and_every() -> None:
    # 1 % a month = 12 % a year; weekly: 12 / 52 / 100 at 12 significant digits (Fineract).
    weekly = riel(100_000, unit=FrequencyUnit.WEEK)
    assert periodic_rate(weekly) == D("0.00230769230769")
    # "Repay every 2 months": twice the monthly rate.
    assert periodic_rate(riel(100_000, every=2)) == D("0.02")


# --- declining balance, equal installments -------------------------------------------------


def test_declining_equal_installments_riel_with_multiple_100() -> None:
    # 200,000 riel, 1 % a month, 10 months, installments in multiples of 100.
    # EMI = PMT(0.01, 10, 200000) = 21,116.42 -> 21,100.
    #  k  opening   interest = rnd(bal x 1 %)   principal = 21100 - interest   closing
    #  1  200000    2000                        19100                          180900
    #  2  180900    1809                        19291                          161609
    #  3  161609    1616.09 -> 1616             19484                          142125
    #  4  142125    1421.25 -> 1421 (half even) 19679                          122446
    #  5  122446    1224.46 -> 1224             19876                          102570
    #  6  102570    1025.70 -> 1026             20074                           82496
    #  7   82496     824.96 ->  825             20275                           62221
    #  8   62221     622.21 ->  622             20478                           41743
    #  9   41743     417.43 ->  417             20683                           21060
    # 10   21060     210.60 ->  211             21060 (all that is left)            0
    terms = riel(200_000, multiple=D(100))
    assert rows(terms) == [
        (19100, 2000, 180900),
        (19291, 1809, 161609),
        (19484, 1616, 142125),
        (19679, 1421, 122446),
        (19876, 1224, 102570),
        (20074, 1026, 82496),
        (20275, 825, 62221),
        (20478, 622, 41743),
        (20683, 417, 21060),
        (21060, 211, 0),
    ]
    totals = [i.total for i in build_schedule(terms).installments]
    assert totals[:-1] == [D(21100)] * 9
    assert totals[-1] == D(21271)


def test_emi_before_rounding_matches_numpy_financial() -> None:
    for rate, n, balance in [
        ("0.01", 10, "200000"),
        ("0.02", 4, "12000.00"),
        ("0.00230769230769", 26, "150000"),
        ("0.035", 36, "987654.32"),
        ("0", 12, "100000"),
    ]:
        ours = _fineract_pmt(D(rate), n, D(balance))
        oracle = npf.pmt(float(rate), n, -float(balance))
        assert abs(float(ours) - oracle) < 1e-6 * max(1.0, abs(oracle))


def test_equal_installments_without_multiple_round_the_pmt_to_cents() -> None:
    terms = LoanTerms(
        D("5000.00"),
        USD,
        D("1.25"),
        RatePeriod.MONTH,
        InterestMethod.DECLINING,
        Amortization.EQUAL_INSTALLMENTS,
        18,
        date(2024, 3, 10),
    )
    expected = D(str(round(npf.pmt(0.0125, 18, -5000), 2)))
    totals = [i.total for i in build_schedule(terms).installments]
    assert all(t == expected for t in totals[:-1])


def test_weekly_declining_schedule() -> None:
    # 100,000 riel at 1 % a month repaid weekly: r = 12 / 52 / 100 = 0.00230769230769.
    # Week 1 interest 100000 x r = 230.77 -> 231; EMI = PMT(r, 4, 100000) = 25,144.2 -> 25,144.
    terms = riel(100_000, repayments=4, unit=FrequencyUnit.WEEK)
    schedule = build_schedule(terms)
    assert [i.due_date for i in schedule.installments] == [
        date(2024, 1, 22),
        date(2024, 1, 29),
        date(2024, 2, 5),
        date(2024, 2, 12),
    ]
    assert rows(terms)[0] == (24913, 231, 75087)
    assert [i.total for i in schedule.installments[:-1]] == [D(25144)] * 3
    assert schedule.total_principal == D(100_000)


# --- declining balance, equal principal ----------------------------------------------------


def test_declining_equal_principal() -> None:
    # 100,000 riel over 3 months: principal 33,333, the last takes 33,334;
    # interest 1 % of 100,000 / 66,667 / 33,334 = 1000 / 666.67 -> 667 / 333.34 -> 333.
    terms = riel(100_000, amortization=Amortization.EQUAL_PRINCIPAL, repayments=3, multiple=D(100))
    assert rows(terms) == [(33333, 1000, 66667), (33333, 667, 33334), (33334, 333, 0)]


def test_every_two_months_doubles_the_rate_and_the_step() -> None:
    # Every 2 months: r = 2 %; interest 2000 / 1333.34 -> 1333 / 666.68 -> 667.
    terms = riel(100_000, amortization=Amortization.EQUAL_PRINCIPAL, repayments=3, every=2)
    assert rows(terms) == [(33333, 2000, 66667), (33333, 1333, 33334), (33334, 667, 0)]
    assert due_dates(terms) == (date(2024, 3, 15), date(2024, 5, 15), date(2024, 7, 15))


# --- flat ----------------------------------------------------------------------------------


def test_flat_riel_one_percent_ten_months() -> None:
    # Interest = 200,000 x 1 % x 10 = 20,000; 2,000 and 20,000 principal a month.
    terms = riel(200_000, method=InterestMethod.FLAT, multiple=D(100))
    schedule = build_schedule(terms)
    assert schedule.total_interest == D(20_000)
    assert rows(terms) == [(20000, 2000, 200000 - 20000 * k) for k in range(1, 11)]


def test_flat_with_multiple_nudges_principal() -> None:
    # 150,000 riel, 1.5 % a month, 7 months, M = 100.
    # I = 150000 x 0.015 x 7 = 15,750; i = 2,250; p = 150000 / 7 = 21,428.57 -> 21,429.
    # p' = rndM(21429) + rndM(2250) - 2250 = 21,400 + 2,200 (22.5 -> 22, half even) - 2,250
    #    = 21,350, so each installment is 23,600. Last: 150000 - 6 x 21350 = 21,900 and
    #    15750 - 6 x 2250 = 2,250.
    terms = riel(150_000, method=InterestMethod.FLAT, repayments=7, rate="1.5", multiple=D(100))
    assert rows(terms)[:6] == [(21350, 2250, 150000 - 21350 * k) for k in range(1, 7)]
    assert rows(terms)[6] == (21900, 2250, 0)
    assert [i.total for i in build_schedule(terms).installments] == [D(23600)] * 6 + [D(24150)]


def test_flat_without_multiple_in_dollars() -> None:
    # 1,000.00 at 1 % a month over 3 months: I = 30.00, i = 10.00, p = 333.33, last 333.34.
    terms = LoanTerms(
        D("1000.00"),
        USD,
        D(12),
        RatePeriod.YEAR,
        InterestMethod.FLAT,
        Amortization.EQUAL_INSTALLMENTS,
        3,
        date(2023, 1, 1),
    )
    schedule = build_schedule(terms)
    assert [(str(i.principal), str(i.interest)) for i in schedule.installments] == [
        ("333.33", "10.00"),
        ("333.33", "10.00"),
        ("333.34", "10.00"),
    ]


# --- interest-only -------------------------------------------------------------------------


def test_interest_only() -> None:
    terms = riel(100_000, method=InterestMethod.INTEREST_ONLY, repayments=3, multiple=D(100))
    assert rows(terms) == [(0, 1000, 100000), (0, 1000, 100000), (100000, 1000, 0)]


# --- grace ---------------------------------------------------------------------------------


def test_principal_grace_on_equal_installments() -> None:
    # 120,000 riel, 6 months, 2 months' principal grace, M = 100.
    # EMI = PMT(0.01, 4, 120000) = 30,754.7 -> 30,800, first due in month 3.
    terms = riel(120_000, repayments=6, grace_principal=2, multiple=D(100))
    assert rows(terms) == [
        (0, 1200, 120000),
        (0, 1200, 120000),
        (29600, 1200, 90400),
        (29896, 904, 60504),
        (30195, 605, 30309),  # 605.04 -> 605
        (30309, 303, 0),  # 303.09 -> 303
    ]


def test_principal_grace_on_equal_principal_spreads_over_the_rest() -> None:
    terms = riel(
        120_000, amortization=Amortization.EQUAL_PRINCIPAL, repayments=4, grace_principal=1
    )
    assert rows(terms) == [
        (0, 1200, 120000),
        (40000, 1200, 80000),
        (40000, 800, 40000),
        (40000, 400, 0),
    ]


def test_interest_grace_defers_flat_interest_to_the_next_period() -> None:
    # Flat 120,000 riel, 4 months, 1 %: 1,200 interest a month; 2 months' interest grace
    # moves 2 x 1,200 into month 3 (3,600).
    terms = riel(120_000, method=InterestMethod.FLAT, repayments=4, grace_interest=2)
    assert [i for _, i, _ in rows(terms)] == [0, 0, 3600, 1200]
    assert [p for p, _, _ in rows(terms)] == [30000] * 4


def test_interest_grace_on_interest_only() -> None:
    terms = riel(100_000, method=InterestMethod.INTEREST_ONLY, repayments=3, grace_interest=1)
    assert rows(terms) == [(0, 0, 100000), (0, 2000, 100000), (100000, 1000, 0)]


# --- due dates -----------------------------------------------------------------------------


def test_due_dates_clamp_to_month_end_and_come_back() -> None:
    terms = riel(100_000, repayments=4, disbursed_on=date(2023, 1, 31))
    assert due_dates(terms) == (
        date(2023, 2, 28),
        date(2023, 3, 31),
        date(2023, 4, 30),
        date(2023, 5, 31),
    )


def test_due_dates_leap_year() -> None:
    terms = riel(100_000, repayments=2, disbursed_on=date(2024, 1, 31))
    assert due_dates(terms) == (date(2024, 2, 29), date(2024, 3, 31))


def test_first_due_on_is_the_seed() -> None:
    terms = riel(100_000, repayments=3, first_due_on=date(2024, 2, 29))
    assert due_dates(terms) == (date(2024, 2, 29), date(2024, 3, 29), date(2024, 4, 29))
    # Interest stays one period's worth even though the first period is longer.
    assert rows(terms)[0][1] == 1000


def test_weekly_every_two_weeks() -> None:
    terms = riel(100_000, repayments=3, unit=FrequencyUnit.WEEK, every=2)
    start = date(2024, 1, 15)
    assert due_dates(terms) == tuple(start + timedelta(days=14 * k) for k in (1, 2, 3))


def test_schedule_records_carry_dates_and_numbers() -> None:
    schedule = build_schedule(riel(200_000, multiple=D(100)))
    assert [i.number for i in schedule.installments] == list(range(1, 11))
    assert schedule.installments[0].due_date == date(2024, 2, 15)
    assert schedule.terms.principal == D(200_000)


# --- house rules ---------------------------------------------------------------------------


def test_ten_installments_in_well_under_a_millisecond() -> None:
    terms = riel(200_000, multiple=D(100))
    build_schedule(terms)
    runs = 200
    start = time.perf_counter()
    for _ in range(runs):
        build_schedule(terms)
    assert (time.perf_counter() - start) / runs < 0.001


def test_every_float_in_the_engine_is_commented() -> None:
    source = Path(__file__).parents[1] / "ledger" / "schedule.py"
    for line in source.read_text(encoding="utf-8").splitlines():
        if re.search(r"\bfloat\(", line):
            assert "#" in line and "float" in line.split("#", 1)[1], line


@pytest.mark.parametrize("method", list(InterestMethod))
@pytest.mark.parametrize("amortization", list(Amortization))
def test_single_repayment_takes_everything(
    method: InterestMethod, amortization: Amortization
) -> None:
    terms = riel(100_000, method=method, amortization=amortization, repayments=1)
    assert rows(terms) == [(100000, 1000, 0)]


def test_emi_tie_on_the_multiple_rounds_up_like_fineract() -> None:
    # At 0 % the PMT is 10,500 / 10 = 1,050, exactly halfway between 1,000 and 1,100.
    # Fineract's Money.roundToMultiplesOf(double, int) takes the ceiling on a tie: 1,100;
    # nine installments of 1,100 leave 600 for the last.
    terms = riel(10_500, rate="0", multiple=D(100))
    assert [p for p, _, _ in rows(terms)] == [1100] * 9 + [600]
