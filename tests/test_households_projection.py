"""`project_family` on SQLite and PostgreSQL against hand-worked households and the pure
functions it feeds: a tailor earning US$70 with US$25 food and US$40 housing at 4,100 riel to
the dollar nets 20,500 riel a month."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_CEILING, Decimal

import pytest
from sqlmodel import Session

from ledger.actor import Actor, Role
from ledger.money import KHR, USD, Money
from ledger.projection import (
    ActivityKind,
    CashLine,
    ExpenseKind,
    FoundationProduct,
    IncomeSource,
    Solvency,
    compare_financing,
    default_activity,
    evaluate,
    simulate,
)
from ledger.projection.cashflow import calendar_months
from ledger.schedule import build_schedule
from ledger.services.errors import NotFound, ServiceError
from ledger.services.families import DebtInput, FamilyInput, register_family
from ledger.services.households import record_household_grid
from ledger.services.projections import project_family
from tests.support.world import ACTOR, TODAY, World, build_world

D = Decimal
TAILOR = (
    CashLine(IncomeSource.ACTIVITY, (D(70),), USD, "tailor shop"),
    CashLine(ExpenseKind.FOOD, (D(25),), USD),
    CashLine(ExpenseKind.HOUSING, (D(40),), USD),
)


def _tailor(world: World, family: int | None = None) -> int:
    fid = family or world.families[0]
    record_household_grid(world.session, actor=ACTOR, family_id=fid, lines=TAILOR,
                          recorded_on=date(2009, 6, 1), usd_rate=D(4100),
                          rate_on=date(2009, 6, 1))
    return fid


def test_the_tailor_by_hand(session: Session) -> None:
    world = build_world(session)
    fid = _tailor(world)
    p = project_family(session, actor=ACTOR, family_id=fid, amount=D(100_000), months=6,
                       as_of=TODAY, scenarios=2_000)
    g = p.grid
    # 70 × 4,100 = 287,000 in; (25 + 40) × 4,100 = 266,500 out; 20,500 left each month.
    assert g.income == (D(287_000),) * 6 and g.expense == (D(266_500),) * 6
    assert g.net_income == (D(20_500),) * 6
    # 100,000 at 1 % a month over six months, installments in hundreds of riel: interest
    # 1,000 + 837 + 672 + 506 + 338 + 169 = 3,522; the last installment takes the rest.
    assert g.loan == (D(17_300),) * 5 + (D(17_022),)
    assert g.surplus == (D(3_200),) * 5 + (D(3_478),)
    assert p.schedule is not None and p.schedule.total_interest == D(3_522)
    cap = p.capacity
    assert cap.index_before == 0 and cap.solvency_before == Solvency.SOLVENT
    assert cap.index == D(103_522) / D(123_000) and cap.solvency == Solvency.AT_RISK
    assert cap.installment_capacity == D(10_250)  # half of 20,500
    # 50,000 → 8,627 a month (8,700 in hundreds) fits 10,250; 60,000 → 10,353 does not.
    assert cap.largest_loan == D(50_000)
    assert cap.missed_months == ()
    foundation, ten_io, *_ = p.financing
    assert (foundation.label, foundation.installment, foundation.saving) == (
        "Foundation", D(17_300), D(0))
    # 10 % interest-only: 10,000 a month, then 110,000; the family has 10,500 × 5 + 20,500.
    assert (ten_io.installment, ten_io.last_installment) == (D(10_000), D(110_000))
    assert ten_io.missed_months == (6,) and ten_io.saving == D(60_000 - 3_522)
    shocks = {r.shock.kind.value: r.capacity for r in p.stress}
    assert shocks["job-loss"].index == cap.index  # a tailor's takings are not a wage
    assert shocks["price-fall"].index is None  # 172,200 in, 266,500 out: no net income
    assert shocks["price-fall"].solvency == Solvency.INSOLVENT
    assert p.viability is None and p.activity is None and p.warnings == ()
    # The same answers from the pure functions on the same inputs.
    schedule = build_schedule(FoundationProduct().terms(D(100_000), 6, TODAY))
    assert p.financing == compare_financing(p.household, principal=D(100_000), months=6)
    assert p.monte_carlo == simulate(p.household, schedule, scenarios=2_000, months=6, seed=0)


def test_an_activity_without_an_amount_borrows_what_it_needs(session: Session) -> None:
    world = build_world(session)
    fid = _tailor(world)
    p = project_family(session, actor=ACTOR, family_id=fid, activity="pig-fattening",
                       months=12, as_of=TODAY, seed=7, scenarios=500)
    pigs = default_activity(ActivityKind.PIGS)
    need = evaluate(pigs, capital=D(0), months=12, calendar=calendar_months(TODAY, 12))
    wanted = (need.minimum_capital / 10_000).to_integral_value(ROUND_CEILING) * 10_000
    assert p.amount == wanted and p.activity == pigs
    assert p.viability == evaluate(pigs, capital=wanted, months=12,
                                   calendar=calendar_months(TODAY, 12))
    assert p.viability.capital_sufficient
    assert p.grid.income_from(IncomeSource.ACTIVITY) != (D(0),) * 12  # pig sales joined in
    assert p.monte_carlo is not None and p.monte_carlo.seed == 7
    # Above the product's 200,000 riel: projected all the same, with a warning.
    assert wanted > 200_000
    assert any("outside the Foundation product's limits" in w for w in p.warnings)


def test_no_loan_shows_capacity_only(session: Session) -> None:
    world = build_world(session)
    fam = register_family(session, actor=ACTOR, today=TODAY, data=FamilyInput(
        ref="F-ML", head_name="ស្រី ពៅ", sex="F", household_size=3,
        village_id=world.villages[0], registered_on=date(2009, 1, 5),
        debts=(DebtInput("moneylender", Money(D(100_000), KHR), D(10)),)))
    assert fam.id is not None
    _tailor(world, fam.id)
    p = project_family(session, actor=ACTOR, family_id=fam.id, as_of=TODAY)
    assert p.schedule is None and p.amount is None and p.financing == ()
    assert p.monte_carlo is None and len(p.stress) == 4
    assert p.grid.debt_service == (D(10_000),) * 12  # 10 % of 100,000 every month
    # 10,000 of 20,500: 48.78 %; capacity half of the 10,500 left.
    assert p.capacity.index_before == D(10_000) / D(20_500)
    assert p.capacity.installment_capacity == D(5_250)


def test_refusals(session: Session) -> None:
    world = build_world(session)
    fid = _tailor(world)
    with pytest.raises(NotFound, match="no cash-flow grid"):
        project_family(session, actor=ACTOR, family_id=world.families[1], as_of=TODAY)
    for kw, field in (({"months": 0}, "months"), ({"months": 121}, "months"),
                      ({"amount": D("100.5")}, "amount"), ({"amount": D(0)}, "amount"),
                      ({"activity": "weaving"}, "activity")):
        with pytest.raises(ServiceError) as caught:
            project_family(session, actor=ACTOR, family_id=fid, as_of=TODAY, **kw)  # type: ignore[arg-type]
        assert caught.value.field == field
    stranger = Actor("tom", frozenset({Role.TREASURER}), villages=frozenset({"none"}))
    with pytest.raises(NotFound):
        project_family(session, actor=stranger, family_id=fid, as_of=TODAY)
