"""Activity models, viability figures and the pig-sale balloon, worked by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.projection import (
    ActivityKind,
    CashLine,
    ExpenseKind,
    Household,
    IncomeSource,
    activity_flows,
    balloon_plans,
    default_activity,
    evaluate,
)
from ledger.projection.viability import minimum_capital

D = Decimal


def test_every_kind_has_a_cited_default() -> None:
    for kind in ActivityKind:
        activity = default_activity(kind)
        assert activity.kind is kind
        assert activity.source
        assert activity.monthly_profit > 0


def test_pig_flows_by_hand() -> None:
    pig = default_activity("pig-fattening")
    flows = activity_flows(pig, 12)
    # Pen 150,000 + two piglets 400,000 before month 1.
    assert flows.outlay == D(550_000)
    # 180 kg × 95 % × 9,000 riel = 1,539,000 in months 5 and 10.
    assert flows.sale_months == (5, 10)
    assert flows.revenue[4] == D(1_539_000)
    # Feed 120,000 a month; piglets for the second cycle bought in month 5; none after month 10
    # because a third cycle could not sell within 12 months.
    assert flows.costs == (*(D(120_000),) * 4, D(520_000), *(D(120_000),) * 5, D(0), D(0))
    # Deepest dip: four months of feed (480,000) on top of the outlay.
    assert minimum_capital(flows) == D(1_030_000)


def test_200000_is_too_little_for_pigs() -> None:
    result = evaluate(default_activity("pig-fattening"), capital=D(200_000))
    assert not result.capital_sufficient and not result.viable
    assert result.minimum_capital == D(1_030_000)
    assert "too little" in result.warnings[0]
    # Profit per cycle: 1,539,000 − 400,000 − 5 × 120,000 = 539,000, i.e. 107,800 a month.
    assert result.monthly_profit == D(107_800)
    assert result.return_on_capital == D(107_800) / D(1_030_000)
    # Break-even price: 1,000,000 ÷ 171 kg = 5,847.95 → 5,848 riel/kg (below the 6,000 of the
    # Svay Rieng crash, so the cycle still pays, barely).
    assert result.break_even_price == D(5_848)
    # Cumulative: −550,000 −480,000 +1,019,000 (month 5) −480,000 +1,419,000 (month 10) ≥ 0.
    assert result.payback_month == 10


def test_pig_price_crash_to_6000() -> None:
    crashed = evaluate(default_activity("pig-fattening", price=D(6000)), capital=D(2_000_000))
    # 171 kg × 6,000 = 1,026,000 − 1,000,000 = 26,000 a cycle: 5,200 a month.
    assert crashed.monthly_profit == D(5_200)
    assert crashed.viable


def test_tailor_earns_seventy_dollars() -> None:
    tailor = default_activity(ActivityKind.TAILOR)
    assert tailor.monthly_profit == D(70 * 4100)
    result = evaluate(tailor, capital=D(200_000))
    # Sewing machine 400,000 + first month's cloth 60,000 = 460,000 needed.
    assert result.minimum_capital == D(460_000) and not result.capital_sufficient
    enough = evaluate(tailor, capital=D(460_000))
    assert enough.viable and enough.warnings == ()


def test_vegetables_wait_out_the_rainy_months() -> None:
    veg = default_activity("vegetables")
    # Month 1 = July when the calendar starts in July; September and October are idle.
    cal = (7, 8, 9, 10, 11, 12, 1, 2)
    flows = activity_flows(veg, 8, cal)
    # A cycle July–August sells in August (month 2); the next waits until November and sells
    # in December (month 6); a third sells in February (month 8).
    assert flows.sale_months == (2, 6, 8)
    assert flows.costs[2] == flows.costs[3] == 0


def test_pig_sale_balloon_against_monthly_installments() -> None:
    household = Household(
        incomes=(CashLine(IncomeSource.WAGE, (D(150_000),)),),
        expenses=(CashLine(ExpenseKind.FOOD, (D(100_000),)),),
    )
    monthly, balloon = balloon_plans(
        household, default_activity("pig-fattening"), principal=D(1_100_000), months=10
    )
    # Monthly: PMT(1,100,000; 1 %; 10) = 116,139 → 116,100. The 550,000 left after the outlay
    # meets −70,000 a month of cash (wage − food − feed): 480,000 − 116,100 = 363,900;
    # 293,900 − 116,100 = 177,800; 107,800 < 116,100 → short 8,300; nothing in month 4.
    assert monthly.schedule.installments[0].total == D(116_100)
    assert monthly.capacity.missed_months == (3, 4)
    assert monthly.capacity.path.shortfall[2:4] == (D(8_300), D(116_100))
    # Balloon: one installment in the sale month (5): 1,100,000 + 5 × 11,000 = 1,155,000,
    # paid from 270,000 saved + 150,000 − 100,000 − 520,000 + 1,539,000 = 1,339,000.
    assert len(balloon.schedule.installments) == 5
    assert [i.total for i in balloon.schedule.installments[:4]] == [D(0)] * 4
    assert balloon.largest_installment == D(1_155_000)
    assert balloon.capacity.missed_months == ()


def test_balloon_needs_a_sale() -> None:
    with pytest.raises(ValueError, match="sells nothing"):
        balloon_plans(
            Household(), default_activity("pig-fattening"), principal=D(500_000), months=3
        )
