"""The demo's household grids follow the research (main incomes US$30–75 a month, food US$21–30,
housing US$35–50, rice sold after Svay Rieng's harvest), are the same for the same seed, and are
recorded for every demo family so that `project_family` works on any of them.

To stay quick the ledger under them holds the demo's families (with their informal debts) but
not its loans, which a household grid does not need."""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from ledger.db import make_engine, upgrade
from ledger.db.tables import core_table
from ledger.demo.build import DEMO_ACTOR, _Builder
from ledger.demo.households import build_households, demo_grids
from ledger.demo.plan import build_plan
from ledger.money import KHR, USD
from ledger.projection import ExpenseKind, IncomeSource, Solvency
from ledger.services.households import family_by_ref
from ledger.services.projections import project_family
from ledger.services.setup import setup_ledger
from ledger.services.unit import use_case

AS_OF = date(2009, 6, 30)
PLAN = build_plan(2008)


def test_grids_follow_the_research_and_the_seed() -> None:
    grids = demo_grids(PLAN)
    assert grids == demo_grids(build_plan(2008))  # same seed, same grids
    assert len(grids) == len(PLAN.families) == 271
    assert grids != demo_grids(build_plan(2009))
    farming = 0
    for grid, family in zip(grids, PLAN.families, strict=True):
        assert grid.family_ref == family.ref and grid.recorded_on == family.registered_on
        assert Decimal(4050) <= grid.usd_rate <= Decimal(4150)
        main, *_ = grid.lines
        assert main.currency == USD and Decimal(30) <= main.amounts[0] <= Decimal(75)
        kinds = Counter(line.category for line in grid.lines)
        assert kinds[ExpenseKind.FOOD] == kinds[ExpenseKind.HOUSING] == 1
        for line in grid.lines:
            if line.category == ExpenseKind.FOOD:
                assert line.currency == USD and 21 <= line.amounts[0] <= 30
            if line.category == ExpenseKind.HOUSING:
                assert line.currency == USD and 35 <= line.amounts[0] <= 50
            if line.category == IncomeSource.FARMING:
                farming += 1
                assert line.seasonal and line.currency == KHR
                sold = {m + 1 for m, v in enumerate(line.amounts) if v > 0}
                assert 12 in sold and sold <= {12, 1, 4}  # after the wet- and dry-season crops
                assert all(v % 1000 == 0 for v in line.amounts)
        if any("no rice land" in note for _, note in family.sensitive):
            assert kinds[IncomeSource.FARMING] == 0
    assert 0.6 <= farming / len(grids) <= 0.9


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = Path(tmp_path_factory.mktemp("demo_households")) / "demo.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with Session(engine, expire_on_commit=False) as session, use_case(session):
        setup_ledger(session, actor=DEMO_ACTOR, name="demo", province="Svay Rieng", demo=True)
        builder = _Builder(session, PLAN)
        for _day, order, _n, event in builder.events():
            if order <= 1:  # capital and families
                event()
        assert build_households(session, PLAN, actor=DEMO_ACTOR,
                                family_ids=builder.family_ids) == 271
    engine.dispose()
    return f"sqlite:///{path}"


def test_every_demo_family_has_a_grid_and_a_projection(demo_url: str) -> None:
    engine = make_engine(demo_url)
    grid, line = core_table("household_grid"), core_table("household_line")
    with Session(engine) as session:
        count = session.execute(sa.select(sa.func.count(sa.distinct(grid.c.family_id)))
                                ).scalar_one()
        assert count == 271
        # Dollar lines are kept in cents as written down: food is US$21–30.
        food = session.execute(sa.select(sa.func.min(line.c.jan_minor),
                                         sa.func.max(line.c.jan_minor))
                               .where(line.c.category == "food")).one()
        assert 2_100 <= food[0] <= food[1] <= 3_000
        classes: Counter[Solvency] = Counter()
        for family in PLAN.families[:40]:
            fid = family_by_ref(session, family.ref)
            p = project_family(session, actor=DEMO_ACTOR, family_id=fid,
                               amount=Decimal(150_000), months=10, as_of=AS_OF, scenarios=200)
            assert len(p.household.debts) == (1 if family.informal_debt else 0)
            classes[p.capacity.solvency] += 1
    engine.dispose()
    # Poor families, most of whom can carry a Foundation loan, some of whom cannot.
    assert classes[Solvency.SOLVENT] >= 15 and classes[Solvency.INSOLVENT] >= 1
