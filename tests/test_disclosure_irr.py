"""Disclosure: the periodic IRR and XIRR solvers, robust at informal-lender rates."""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal

import numpy_financial as npf
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ledger.disclosure import (
    DisclosureError,
    percent,
    periodic_irr,
    xirr,
)

D = Decimal
DAY0 = date(2025, 1, 6)

# --- periodic IRR -----------------------------------------------------------------------------


def test_irr_mftransparency_declining_one_percent_flows() -> None:
    # An exact annuity at 1 % a month: the IRR is 1 % a month, APR 12.00 %, EIR 12.68 %.
    r = D("0.01")
    pmt = D(100_000) * r / (1 - (1 + r) ** -12)
    irr = periodic_irr([D(-100_000)] + [pmt] * 12)
    assert abs(irr - r) < D("1e-20")
    assert percent(irr * 12) == "12.00"
    assert percent((1 + irr) ** 12 - 1) == "12.68"


def test_irr_mftransparency_flat_ten_percent_a_year_flows() -> None:
    # 10,000 at 10 % a year flat over 36 months: 3,000 interest, 36 payments of 13,000/36.
    irr = periodic_irr([D(-10_000)] + [D(13_000) / 36] * 36)
    assert percent(irr * 12) == "17.92"


@pytest.mark.parametrize("monthly", ["0.25", "0.5", "1", "0.1", "0.0001", "3"])
def test_irr_recovers_informal_rates_interest_only(monthly: str) -> None:
    # Interest-only at r: −P, then P·r each period and P·(1 + r) at the end: the IRR is r.
    r, p = D(monthly), D(200_000)
    flows = [-p] + [p * r] * 9 + [p * (1 + r)]
    assert abs(periodic_irr(flows) - r) < D("1e-20")


@pytest.mark.parametrize("monthly", ["0.25", "0.5", "1"])
def test_irr_recovers_informal_rates_annuity(monthly: str) -> None:
    r, n = D(monthly), 10
    pmt = D(200_000) * r / (1 - (1 + r) ** -n)
    assert abs(periodic_irr([D(-200_000)] + [pmt] * n) - r) < D("1e-20")


def test_irr_sign_convention_either_view() -> None:
    lender = [D(-100), D(60), D(60)]
    borrower = [-v for v in lender]
    assert periodic_irr(lender) == periodic_irr(borrower)
    # (1 + r)² − 0.6(1 + r) − 0.6 = 0 → 1 + r = (0.6 + √2.76) / 2
    expected = (D("0.6") + D("2.76").sqrt()) / 2 - 1
    assert abs(periodic_irr(lender) - expected) < D("1e-20")


def test_irr_negative_and_zero_rates() -> None:
    assert periodic_irr([D(-100), D(90)]) == D("-0.1")
    assert periodic_irr([D(-100), D(50), D(50)]) == 0
    assert periodic_irr([D(-100), D(0), D(1)]) == D("-0.9")


@pytest.mark.parametrize(
    "flows",
    [[D(100), D(10)], [D(-100), D(-10)], [D(-100)], [], [D(0), D(0)]],
)
def test_irr_refuses_flows_without_a_rate(flows: list[Decimal]) -> None:
    with pytest.raises(DisclosureError):
        periodic_irr(flows)


def test_irr_refuses_float() -> None:
    with pytest.raises(TypeError):
        periodic_irr([D(-100), 110.0])  # type: ignore[list-item]


@settings(max_examples=100, deadline=None)
@given(
    principal=st.integers(min_value=10_000, max_value=10_000_000),
    rate_bp=st.integers(min_value=10, max_value=10_000),  # 0.1 % to 100 % a period
    n=st.integers(min_value=1, max_value=60),
)
def test_irr_agrees_with_numpy_financial(principal: int, rate_bp: int, n: int) -> None:
    r = D(rate_bp) / 10_000
    p = D(principal)
    pmt = (p * r / (1 - (1 + r) ** -n)).quantize(D(1))  # whole riel, as a schedule would be
    flows = [-p] + [pmt] * n
    oracle = npf.irr([float(v) for v in flows])
    assume(not math.isnan(oracle))  # np.roots occasionally reports a tiny imaginary part
    ours = periodic_irr(flows)
    assert abs(float(ours) - oracle) <= 1e-9 * max(1.0, abs(oracle))
    assert abs(ours - r) < D("0.001") * max(r, D(1))


# --- XIRR -------------------------------------------------------------------------------------


def test_xirr_one_year_ten_percent() -> None:
    start = date(2025, 3, 1)
    flows = [(start, D(-1000)), (start + timedelta(days=365), D(1100))]
    result = xirr(flows)
    assert percent(result) == "10.00"
    assert abs(result - D("0.1")) < D("1e-20")


def test_xirr_half_year_and_two_years() -> None:
    start = date(2025, 3, 1)
    # 1,000 → 1,210 over 730 days: (1.21)^(1/2) − 1 = 10 %.
    assert abs(xirr([(start, D(-1000)), (start + timedelta(730), D(1210))]) - D("0.1")) < D("1e-20")
    # 1,000 → 1,100 in 73 days, a fifth of a year: the annual rate is (1.1)^5 − 1.
    got = xirr([(start, D(-1000)), (start + timedelta(73), D(1100))])
    assert abs(got - (D("1.1") ** 5 - 1)) < D("1e-20")


def test_xirr_unsorted_dates_and_borrower_view() -> None:
    start = date(2025, 3, 1)
    flows = [(start + timedelta(365), D(-1100)), (start, D(1000))]
    assert abs(xirr(flows) - D("0.1")) < D("1e-20")


@pytest.mark.parametrize("annual", ["0.25", "1", "10", "1000"])
def test_xirr_high_rates(annual: str) -> None:
    start = date(2024, 6, 1)
    a = D(annual)
    flows = [(start, D(-100)), (start + timedelta(365), D(100) * (1 + a))]
    assert abs(xirr(flows) - a) < D("1e-18") * max(a, D(1))


@pytest.mark.parametrize("monthly", ["0.01", "0.5"])
def test_xirr_on_365_day_periods_equals_periodic_irr(monthly: str) -> None:
    r = D(monthly)
    values = [D(-100_000)] + [D(100_000) * r] * 3 + [D(100_000) * (1 + r)]
    dated = [(DAY0 + timedelta(days=365 * k), v) for k, v in enumerate(values)]
    assert abs(xirr(dated) - periodic_irr(values)) < D("1e-20")


def test_xirr_refuses_one_way_money() -> None:
    with pytest.raises(DisclosureError):
        xirr([(DAY0, D(-5)), (DAY0 + timedelta(1), D(-5))])


# --- disclose on hand-built schedules ---------------------------------------------------------

