"""Pilot tests of the projection and training screens on a real SQLite ledger: a family's
stored grid is opened, edited, saved as a new snapshot and projected again; a follow-up visit
recorded on the training screen leaves both the visit and a grid snapshot in the ledger."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session
from textual.widgets import Input

from ledger.money import KHR, USD, Money
from ledger.projection import CashLine, ExpenseKind, IncomeSource
from ledger.services.households import latest_grid, record_household_grid
from ledger.services.projections import project_family
from ledger.services.training import CourseInput, EnrollmentInput, add_course, enroll
from tests.support.world import ACTOR
from tests.test_tui_world import (
    TODAY,
    app_on,
    scalar,
    screen_text,
    settle,
    small_ledger,
    sync,
    type_text,
)
from tui.app import FsfApp
from tui.dialogs import ConfirmDialog, EntryDialog
from tui.dialogs.grid_line import GridLineDialog
from tui.screens.projections import ProjectionsScreen
from tui.screens.training import TrainingScreen

D = Decimal
RICE = tuple(D(300_000) if m == 12 else D(100_000) if m == 1 else D(0) for m in range(1, 13))
# A family as the demo writes one down at registration (ledger/demo/households.py).
DEMO_LIKE = (
    CashLine(IncomeSource.WAGE, (D("45.00"),), USD, "day labour"),
    CashLine(IncomeSource.ACTIVITY, (D("35.00"),), USD, "market stall"),
    CashLine(IncomeSource.FARMING, RICE, KHR, "rice", seasonal=True),
    CashLine(ExpenseKind.FOOD, (D("25.00"),), USD),
    CashLine(ExpenseKind.HOUSING, (D("40.00"),), USD),
)
FOOD_ROW = 3


def _with_grid(engine: sa.Engine, family: int, *, enrolled: bool = False) -> None:
    """Record the demo-like grid for `family` (and a completed sewing enrollment, so that a
    follow-up visit is due)."""
    with Session(engine, expire_on_commit=False) as s:
        record_household_grid(s, actor=ACTOR, family_id=family, lines=DEMO_LIKE,
                              recorded_on=date(2008, 3, 1), usd_rate=D(4100),
                              rate_on=date(2008, 3, 1))
        if enrolled:
            # Completed in February: visits are due every three months for a year.
            course = add_course(s, actor=ACTOR, data=CourseInput(
                "SEW-1", "sewing", "PDoWA", "Svay Rieng", date(2008, 11, 3), date(2009, 2, 27),
                20, Money(D(0), KHR)))
            assert course.id is not None
            enroll(s, actor=ACTOR, today=TODAY, data=EnrollmentInput(
                course.id, family, date(2008, 11, 3), status="completed",
                completed_on=date(2009, 2, 27)))
        s.commit()


def _top(app: FsfApp) -> object:
    """The screen on top now (read afresh, after keys have moved it)."""
    return app.screen


def _expected(engine: sa.Engine, family: int) -> str:
    """The capacity the ledger's own projection gives for the stored grid, as the screen
    states it (installment capacity and largest loan)."""
    with Session(engine) as s:
        p = project_family(s, actor=ACTOR, family_id=family, amount=D(150_000), months=10,
                           as_of=TODAY, scenarios=1)
    return f"{Money(p.capacity.installment_capacity, KHR)}"


@sync
async def test_edit_a_line_save_the_grid_and_see_the_capacity_recomputed(
        sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, world):
        family = world.families[0]
        _with_grid(engine, family)
        before = _expected(engine, family)
        app = app_on(engine)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            app.push_screen(ProjectionsScreen(family_ref="F001"))  # pushed with a reference
            await settle(pilot, rounds=3)
            screen = app.screen
            assert isinstance(screen, ProjectionsScreen)
            shown = screen_text(app)
            assert "F001" in shown and "market stall" in shown and "Capacity:" in shown
            assert before.split()[0] in shown
            for _ in range(FOOD_ROW):
                await pilot.press("down")
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, GridLineDialog)
            await pilot.press("ctrl+u")
            await type_text(pilot, "12.5x")
            await settle(pilot)
            assert "Every month: '12.5x' is not an amount" in screen_text(app)  # field named
            await pilot.press("enter")  # refused: the dialog stays
            await settle(pilot)
            assert isinstance(app.screen, GridLineDialog)
            await pilot.press("backspace")
            await type_text(pilot, "0")  # food is now US$12.50 a month instead of US$25
            await pilot.press("enter")
            await settle(pilot, rounds=3)
            assert _top(app) is screen and screen.dirty
            assert "Unsaved edits" in screen_text(app)
            assert scalar(engine, "select count(*) from household_grid") == 1
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmDialog)
            assert "F001" in app.screen.message and str(TODAY) in app.screen.message
            await pilot.press("y")
            await settle(pilot, rounds=3)
            assert _top(app) is screen and not screen.dirty
            assert scalar(engine, "select count(*) from household_grid") == 2
            assert scalar(engine, "select l.jan_minor from household_line l join household_grid"
                                  " g on g.id = l.grid_id where g.recorded_on = :d and "
                                  "l.category = 'food'", d=TODAY) == 1_250
            after = _expected(engine, family)  # the ledger now projects the saved grid
            assert after != before
            shown = screen_text(app)
            assert after.split()[0] in shown and "Monte Carlo" in shown
        with Session(engine) as s:
            saved = latest_grid(s, actor=ACTOR, family_id=family)
        assert saved is not None and saved.recorded_on == TODAY
        assert saved.incomes == DEMO_LIKE[:3] and saved.expenses[1:] == DEMO_LIKE[4:]


@sync
async def test_escape_with_unsaved_edits_asks_and_saves_nothing(sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, world):
        _with_grid(engine, world.families[0])
        app = app_on(engine)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("7")  # the Projections area: pick the family there
            await settle(pilot)
            await type_text(pilot, "F001")
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot, rounds=3)
            screen = app.screen
            assert isinstance(screen, ProjectionsScreen) and screen.grid is not None
            await pilot.press("delete")  # remove the day labour line
            await settle(pilot)
            assert screen.dirty and "day labour" not in screen_text(app)
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmDialog)
            await pilot.press("escape")  # stay
            await settle(pilot)
            assert _top(app) is screen and screen.dirty
            await pilot.press("escape")
            await settle(pilot)
            await pilot.press("y")  # leave without saving
            await settle(pilot)
            assert _top(app) is screen and screen.grid is None  # back to choosing a family
        assert scalar(engine, "select count(*) from household_grid") == 1


@sync
async def test_a_visit_recorded_on_the_training_screen_updates_the_grid(
        sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, world):
        family = world.families[0]
        _with_grid(engine, family, enrolled=True)
        app = app_on(engine)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("6")
            await settle(pilot)
            assert isinstance(app.screen, TrainingScreen)
            await pilot.press("v")
            await settle(pilot)
            assert isinstance(app.screen, EntryDialog)
            await pilot.press("enter", "enter")  # today; self-employed
            await type_text(pilot, "tailoring at home")
            await pilot.press("enter")
            await type_text(pilot, "300000")
            await pilot.press("enter")
            await type_text(pilot, "250000")
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmDialog)
            assert "market stall" in app.screen.message  # says what the visit replaces
            await pilot.press("y")
            await settle(pilot, rounds=3)
            visit = scalar(engine, "select id from follow_up_visit")
            assert visit is not None
            assert scalar(engine, "select income_minor from follow_up_visit") == 300_000
            grid = scalar(engine, "select id from household_grid where follow_up_id = :v",
                          v=visit)
            assert grid is not None
            assert scalar(engine, "select recorded_on from household_grid where id = :g",
                          g=grid) == str(TODAY)
            lines: dict[str, int] = dict(sa.orm.Session(engine).execute(sa.text(
                "select category, jan_minor from household_line where grid_id = :g"),
                {"g": grid}).all())
            assert lines == {"wage": 4_500, "activity": 300_000, "farming": 100_000,
                             "food": 250_000}
            app.open_family(family)  # its page, then p: the projection shows the visit's line
            await settle(pilot)
            await pilot.press("p")
            await settle(pilot, rounds=3)
            assert isinstance(app.screen, ProjectionsScreen)
            shown = screen_text(app)
            assert "self-employed: tailori" in shown and "market stall" not in shown
            assert app.screen.lines[1].label == "self-employed: tailoring at home"


@sync
async def test_escape_leaves_the_family_search_so_the_area_keys_work(sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, _world):
        app = app_on(engine)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("7")  # the Projections area opens on its family search
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, ProjectionsScreen)
            assert app.focused is not None and app.focused.id == "projections-search"
            await type_text(pilot, "F00")
            await pilot.press("escape")  # out of the box, to the families found
            await settle(pilot)
            assert app.focused is not None and app.focused.id == "projections-found"
            assert screen.query_one("#projections-search", Input).value == "F00"
            await pilot.press("2")  # an area key now switches area instead of typing
            await settle(pilot)
            assert "Families" in screen_text(app).splitlines()[0]
            assert screen.query_one("#projections-search", Input).value == "F00"


@sync
async def test_escape_from_the_search_of_a_pushed_projection_then_goes_back(
        sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, world):
        _with_grid(engine, world.families[0])
        app = app_on(engine)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            under = app.screen
            await app.push_screen(ProjectionsScreen(world.families[0]))  # as a family's `p`
            await settle(pilot, rounds=3)
            screen = app.screen
            assert isinstance(screen, ProjectionsScreen) and screen.grid is not None
            await pilot.press("ctrl+f")  # another family: the search
            await settle(pilot)
            assert app.focused is not None and app.focused.id == "projections-search"
            await pilot.press("escape")  # first to the list…
            await settle(pilot)
            assert _top(app) is screen
            assert app.focused is not None and app.focused.id == "projections-found"
            await pilot.press("escape")  # …then back where it was opened from
            await settle(pilot)
            assert _top(app) is under
