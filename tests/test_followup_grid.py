"""A follow-up visit updates the family's cash-flow grid, on SQLite and PostgreSQL: a new
snapshot dated the visit and linked to it, its income in place of the activity line and its
food and housing costs in place of those lines, every other line carried over — written in the
visit's own transaction, through the service, the command line and a spreadsheet import alike.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session
from typer.testing import CliRunner

from ledger.actor import Actor, Role
from ledger.money import KHR, USD, Money
from ledger.projection import CashLine, ExpenseKind, IncomeSource
from ledger.services.errors import NotFound
from ledger.services.households import (
    follow_up_grid,
    grid_history,
    latest_grid,
    record_household_grid,
)
from ledger.services.projections import project_family
from ledger.services.training import CourseInput, EnrollmentInput, add_course, enroll
from ledger.services.training_followups import (
    FOOD_AND_HOUSING,
    VisitInput,
    record_follow_up,
    visit_lines,
)
from tests.support.world import ACTOR, TODAY, World, build_world

D = Decimal
RICE = tuple(D(300_000) if m == 12 else D(100_000) if m == 1 else D(0) for m in range(1, 13))
SCHOOL = tuple(D(60_000) if m == 9 else D(0) for m in range(1, 13))
# A family as the demo writes one down at registration (see ledger/demo/households.py).
REGISTERED = (
    CashLine(IncomeSource.WAGE, (D("55.00"),), USD, "garment factory, Bavet"),
    CashLine(IncomeSource.ACTIVITY, (D("40.00"),), USD, "market stall"),
    CashLine(IncomeSource.FARMING, RICE, KHR, "rice", seasonal=True),
    CashLine(ExpenseKind.FOOD, (D("25.00"),), USD),
    CashLine(ExpenseKind.HOUSING, (D("40.00"),), USD),
    CashLine(ExpenseKind.SCHOOLING, SCHOOL, KHR, "uniforms and books", seasonal=True),
)


def _trained(session: Session, *, grid: bool = True) -> tuple[World, int]:
    """The test world; its first family with the demo-like grid (unless `grid` is False) and
    an enrollment completed in a sewing course. Returns the world and the enrollment id."""
    world = build_world(session)
    if grid:
        record_household_grid(session, actor=ACTOR, family_id=world.families[0],
                              lines=REGISTERED, recorded_on=date(2007, 6, 1),
                              usd_rate=D(4100), rate_on=date(2007, 6, 1), savings=D(20_000))
    course = add_course(session, actor=ACTOR, data=CourseInput(
        "SEW-1", "sewing", "PDoWA", "Svay Rieng", date(2008, 1, 7), date(2008, 3, 28), 20,
        Money(D(0), KHR)))
    assert course.id is not None
    enrolment = enroll(session, actor=ACTOR, today=TODAY, data=EnrollmentInput(
        course.id, world.families[0], date(2008, 1, 7), status="completed",
        completed_on=date(2008, 3, 28)))
    assert enrolment.id is not None
    return world, enrolment.id


def _visit(enrollment: int, on: date = date(2008, 6, 20), **kw: object) -> VisitInput:
    args: dict[str, object] = {
        "enrollment_id": enrollment, "visited_on": on, "officer": "Chenda",
        "activity": "self-employed", "activity_detail": "sewing at home",
        "income": Money(D(287_000), KHR), "costs": Money(D(266_500), KHR)} | kw
    return VisitInput(**args)  # type: ignore[arg-type]


def _rows(session: Session, grid_id: int) -> list[tuple[object, ...]]:
    """The stored lines of a grid, read straight from the table."""
    return [tuple(r) for r in session.execute(sa.text(
        "select kind, category, label, currency, seasonal, jan_minor, sep_minor, dec_minor "
        "from household_line where grid_id = :g order by position"), {"g": grid_id})]


def test_a_visit_replaces_activity_and_food_and_housing_in_a_new_snapshot(
        session: Session) -> None:
    world, enrollment = _trained(session)
    fam = world.families[0]
    visit = record_follow_up(session, actor=ACTOR, today=TODAY, data=_visit(enrollment))
    history = grid_history(session, actor=ACTOR, family_id=fam)
    assert len(history) == 2
    before, after = history
    assert after.follow_up_id == visit.id and after.recorded_on == date(2008, 6, 20)
    assert after.recorded_by == ACTOR.name and str(visit.id) in after.note
    # The registration grid's rate and savings are carried; riel visit amounts stay riel.
    assert (after.usd_rate, after.rate_on, after.savings) == (D(4100), date(2007, 6, 1),
                                                              D(20_000))
    assert _rows(session, after.id) == [
        ("income", "wage", "garment factory, Bavet", "USD", False, 5_500, 5_500, 5_500),
        ("income", "activity", "self-employed: sewing at home", "KHR", False,
         287_000, 287_000, 287_000),
        ("income", "farming", "rice", "KHR", True, 100_000, 0, 300_000),
        ("expense", "food", FOOD_AND_HOUSING, "KHR", False, 266_500, 266_500, 266_500),
        ("expense", "schooling", "uniforms and books", "KHR", True, 0, 60_000, 0),
    ]
    assert before.follow_up_id is None and len(_rows(session, before.id)) == 6
    assert visit.id is not None
    assert follow_up_grid(session, actor=ACTOR, follow_up_id=visit.id) == after
    # The projection now reads the visit's figures.
    p = project_family(session, actor=ACTOR, family_id=fam, as_of=TODAY, amount=D(150_000),
                       months=10, scenarios=100)
    assert p.source.id == after.id
    assert p.grid.income_from(IncomeSource.ACTIVITY) == (D(287_000),) * 10


def test_a_visit_in_dollars_keeps_dollars_and_its_rate_becomes_the_grids(
        session: Session) -> None:
    world, enrollment = _trained(session)
    visit = record_follow_up(session, actor=ACTOR, today=TODAY, data=_visit(
        enrollment, activity="employed", activity_detail="garment factory",
        income=Money(D("62.50"), USD), costs=Money(D("70"), USD), rate=D(4020),
        rate_on=date(2008, 6, 18)))
    grid = latest_grid(session, actor=ACTOR, family_id=world.families[0])
    assert grid is not None and grid.follow_up_id == visit.id
    assert (grid.usd_rate, grid.rate_on) == (D(4020), date(2008, 6, 18))
    assert grid.incomes[1] == CashLine(IncomeSource.ACTIVITY, (D("62.50"),), USD,
                                       "employed: garment factory")
    assert grid.expenses[0] == CashLine(ExpenseKind.FOOD, (D("70.00"),), USD, FOOD_AND_HOUSING)


def test_a_family_without_a_grid_gets_one_from_its_visit(session: Session) -> None:
    world, enrollment = _trained(session, grid=False)
    visit = record_follow_up(session, actor=ACTOR, today=TODAY, data=_visit(
        enrollment, activity="not-working", activity_detail=""))
    grid = latest_grid(session, actor=ACTOR, family_id=world.families[0])
    assert grid is not None and grid.follow_up_id == visit.id
    assert grid.incomes == (CashLine(IncomeSource.ACTIVITY, (D(287_000),), KHR, "not working"),)
    assert grid.expenses == (CashLine(ExpenseKind.FOOD, (D(266_500),), KHR, FOOD_AND_HOUSING),)
    assert (grid.usd_rate, grid.rate_on, grid.savings) == (None, None, D(0))


def test_a_correction_replaces_the_wrong_figures_and_keeps_the_rest(session: Session) -> None:
    world, enrollment = _trained(session)
    wrong = record_follow_up(session, actor=ACTOR, today=TODAY, data=_visit(
        enrollment, income=Money(D(2_870_000), KHR)))
    fixed = record_follow_up(session, actor=ACTOR, today=TODAY, data=_visit(
        enrollment, corrects=wrong.id))
    grid = latest_grid(session, actor=ACTOR, family_id=world.families[0])
    assert grid is not None and grid.follow_up_id == fixed.id
    assert [line.amounts for line in grid.incomes if line.category is IncomeSource.ACTIVITY] \
        == [(D(287_000),)]
    assert len(grid.incomes) == 3 and len(grid.expenses) == 2


def test_a_visit_dated_before_the_current_grid_does_not_replace_it(session: Session) -> None:
    world, enrollment = _trained(session)
    fam = world.families[0]
    later = record_household_grid(session, actor=ACTOR, family_id=fam, lines=REGISTERED[:1],
                                  recorded_on=date(2009, 1, 10), usd_rate=D(4100),
                                  rate_on=date(2009, 1, 10))
    visit = record_follow_up(session, actor=ACTOR, today=TODAY, data=_visit(enrollment))
    assert latest_grid(session, actor=ACTOR, family_id=fam) == later
    assert visit.id is not None
    made = follow_up_grid(session, actor=ACTOR, follow_up_id=visit.id)
    assert made is not None and made.recorded_on == date(2008, 6, 20)
    assert len(made.incomes) == 3  # built on the grid of that day, the registration one


def test_a_refused_grid_leaves_no_visit_behind(session: Session) -> None:
    world, enrollment = _trained(session)
    # An officer kept to another village may record trainings, but not this family's grid.
    elsewhere = Actor("vanna", frozenset({Role.OFFICER}), villages=frozenset({"none"}))
    with pytest.raises(NotFound):
        record_follow_up(session, actor=elsewhere, today=TODAY, data=_visit(enrollment))
    assert session.execute(sa.text("select count(*) from follow_up_visit")).scalar() == 0
    assert session.execute(sa.text("select count(*) from household_grid")).scalar() == 1
    assert len(grid_history(session, actor=ACTOR, family_id=world.families[0])) == 1


def test_visit_lines_is_pure_and_places_each_replacement_where_it_was() -> None:
    lines = visit_lines(REGISTERED, activity="self-employed", detail=" tailoring ",
                        income=Money(D(1), KHR), costs=Money(D(2), KHR))
    assert [(x.category.value, x.label) for x in lines] == [
        ("wage", "garment factory, Bavet"), ("activity", "self-employed: tailoring"),
        ("farming", "rice"), ("food", FOOD_AND_HOUSING), ("schooling", "uniforms and books")]
    only_wage = visit_lines(REGISTERED[:1], activity="employed", detail="shop",
                            income=Money(D(1), KHR), costs=Money(D(2), KHR))
    assert [x.category.value for x in only_wage] == ["wage", "activity", "food"]


def test_fsf_training_visit_updates_the_grid(sqlite_url: str) -> None:
    from ledger.db import make_engine
    from ledger.services.setup import set_fact
    from tui.cli import build_app

    engine = make_engine(sqlite_url)
    with Session(engine, expire_on_commit=False) as session:
        world, enrollment = _trained(session)
        set_fact(session, "demo", "true")  # a demo ledger acts without a password
        session.commit()
    result = CliRunner().invoke(build_app(), [
        "--db", sqlite_url, "training", "visit", "--enrollment", str(enrollment), "--on",
        "2008-07-01", "--activity", "self-employed", "--detail", "tailoring", "--income",
        "300,000", "--costs", "250,000"], env={"FSF_TODAY": "2009-06-30"})
    assert result.exit_code == 0, result.stderr
    with Session(engine) as session:
        visit_id = session.execute(sa.text("select id from follow_up_visit")).scalar_one()
        grid = follow_up_grid(session, actor=ACTOR, follow_up_id=visit_id)
        assert grid is not None and grid.recorded_on == date(2008, 7, 1)
        assert grid.expenses[0].amounts == (D(250_000),)
        assert latest_grid(session, actor=ACTOR, family_id=world.families[0]) == grid
    engine.dispose()


def test_importing_follow_ups_updates_the_grid(session: Session, tmp_path: Path) -> None:
    from tests.test_import_training import _files, _import

    world = build_world(session)
    record_household_grid(session, actor=ACTOR, family_id=world.families[0],
                          lines=REGISTERED, recorded_on=date(2007, 6, 1), usd_rate=D(4100),
                          rate_on=date(2007, 6, 1))
    session.commit()
    courses, enrollments, followups = _files(tmp_path)
    for kind, path in (("courses", courses), ("enrollments", enrollments),
                       ("followups", followups)):
        _import(session, kind, path)
    visits = session.execute(sa.text("select id from follow_up_visit order by visited_on")
                             ).scalars().all()
    history = grid_history(session, actor=ACTOR, family_id=world.families[0])
    assert [g.follow_up_id for g in history] == [None, *visits]
    first, second = history[1:]
    assert first.incomes[1].amounts == (D(250_000),)  # the market stall, in riel
    assert first.expenses[0].amounts == (D(150_000),)  # food 120,000 + housing 30,000
    assert (second.usd_rate, second.incomes[1].currency) == (D(4100), USD)
    assert second.expenses[0] == CashLine(ExpenseKind.FOOD, (D("40.00"),), USD,
                                          FOOD_AND_HOUSING)
    assert second.incomes[2] == REGISTERED[2]  # the rice, carried through both visits
