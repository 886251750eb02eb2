"""Pilot tests of the other areas: journal and verify, reports, training follow-ups, the
dashboard, help, the command palette (a family's projection among its entries), setup and
login; the new-loan preview at 80 and 120 columns; an applied loan's planned schedule; quitting
with unsaved edits. (SVG snapshots are in test_tui_snapshots.py.)"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from ledger.money import Money
from tests.test_tui_world import (
    OFFICER,
    TODAY,
    app_on,
    scalar,
    screen_text,
    settle,
    small_ledger,
    sync,
    type_text,
)
from tui.dialogs import ConfirmDialog, EntryDialog
from tui.screens.family import FamilyScreen
from tui.screens.help import HelpScreen
from tui.screens.loan import LoanScreen
from tui.screens.login import LoginScreen
from tui.screens.new_loan import NewLoanScreen
from tui.screens.projections import ProjectionsScreen
from tui.screens.reports import REPORTS
from tui.screens.setup import SetupScreen


@sync
async def test_journal_lists_newest_first_and_verify_runs_in_a_worker(sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, _):
        app = app_on(engine)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("9")
            await settle(pilot)
            shown = screen_text(app)
            assert "capital" in shown and "10,000,000 ៛" in shown and "RIEL.cash" in shown
            await pilot.press("v")
            await settle(pilot)
            assert "Ledger verified" in screen_text(app)


@sync
async def test_each_report_opens(sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, world):
        with sa.orm.Session(engine) as session:
            world.session = session
            world.loan(world.families[0], 200_000)
        app = app_on(engine)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("8")
            await settle(pilot)
            for n, (title, _, _) in enumerate(REPORTS):
                if n:
                    await pilot.press("down")
                await pilot.press("enter")
                await settle(pilot)
                assert f"{title.split()[0]}" in screen_text(app)
                assert "as of 2009-06-30" in screen_text(app), title
                assert "Something went wrong" not in screen_text(app), title
            await pilot.press("up", "up", "up", "up", "up", "enter")
            await settle(pilot)
            assert "200,000 ៛" in screen_text(app)  # the portfolio's gross principal


@sync
async def test_record_a_follow_up_visit(sqlite_url: str) -> None:
    from ledger.services.training import CourseInput, EnrollmentInput, add_course, enroll

    with small_ledger(sqlite_url) as (engine, world):
        with sa.orm.Session(engine) as session:
            course = add_course(session, actor=OFFICER, data=CourseInput(
                ref="C-1", skill="tailoring", provider="NGO", place="Svay Rieng",
                starts_on=date(2009, 1, 5), ends_on=date(2009, 2, 27), capacity=10,
                cost=Money.parse(0, "KHR")))
            enroll(session, actor=OFFICER, today=TODAY, data=EnrollmentInput(
                course_id=course.id, family_id=world.families[0], enrolled_on=date(2009, 1, 5),
                status="completed", completed_on=date(2009, 2, 27)))
        app = app_on(engine)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("6")
            await settle(pilot)
            assert "Sok 0" in screen_text(app) or "F001" in screen_text(app)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, EntryDialog)
            await pilot.press("enter", "enter")
            await type_text(pilot, "tailoring at home")
            await pilot.press("enter")
            await type_text(pilot, "180000")
            await pilot.press("enter")
            await type_text(pilot, "90000")
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmDialog)
            await pilot.press("y")
            await settle(pilot)
        assert scalar(engine, "select income_minor from follow_up_visit") == 180_000
        assert scalar(engine, "select activity_detail from follow_up_visit") == \
            "tailoring at home"


@sync
async def test_dashboard_help_and_palette(sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, world):
        with sa.orm.Session(engine) as session:
            world.session = session
            world.loan(world.families[0], 200_000)
        app = app_on(engine)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            shown = screen_text(app)
            assert "Portfolio" in shown and "200,000 ៛" in shown and "Needs attention" in shown
            await pilot.press("f1")
            await settle(pilot)
            assert isinstance(app.screen, HelpScreen)
            assert "app.help" in screen_text(app) and "Families" in screen_text(app)
            await pilot.press("escape")
            await pilot.press("ctrl+p")
            await settle(pilot)
            await type_text(pilot, "sok 2")
            await pilot.pause(0.5)
            await settle(pilot)
            assert "Open family… F003 Sok 2" in screen_text(app)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, FamilyScreen)
            assert app.screen.family_id == world.families[2]


@sync
async def test_a_new_ledger_is_set_up_for_its_first_user_then_login(sqlite_url: str) -> None:
    from ledger.db import make_engine

    engine = make_engine(sqlite_url)
    try:
        app = app_on(engine, actor=None)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, SetupScreen)
            app.screen.query_one("#setup-capital").focus()
            await type_text(pilot, "5,000,000")
            app.screen.query_one("#setup-password").focus()
            await pilot.press("enter")  # the last field: sets the ledger up, but for nobody
            await settle(pilot)
            assert isinstance(app.screen, SetupScreen)
            assert "nobody could sign in" in screen_text(app)
            assert scalar(engine, "select count(*) from fund") == 0  # nothing half set up
            fields = {"user": "dara", "password": "long enough 1"}
            for key, value in fields.items():
                app.screen.query_one(f"#setup-{key}").focus()
                await type_text(pilot, value)
            await pilot.click("#setup-go")
            await settle(pilot)
            assert isinstance(app.screen, LoginScreen)
            await type_text(pilot, "dara")
            await pilot.press("enter")
            await type_text(pilot, "wrong password")
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, LoginScreen)
            assert "wrong user name or password" in screen_text(app)
            await type_text(pilot, "long enough 1")
            await pilot.press("enter")
            await settle(pilot)
            assert app.ledger.actor is not None and app.ledger.actor.name == "dara"
            assert not isinstance(app.screen, LoginScreen)
        assert scalar(engine, "select count(*) from fund") == 1
        assert scalar(engine, "select count(*) from loan_product where code = 'FSF'") == 1
        assert scalar(engine, "select amount_minor from capital_receipt") == 5_000_000
    finally:
        engine.dispose()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
@sync
async def test_the_new_loan_preview_reads_at_80_and_120_columns(
        sqlite_url: str, size: tuple[int, int]) -> None:
    with small_ledger(sqlite_url) as (engine, world):
        app = app_on(engine)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            app.new_loan(world.families[0])
            await settle(pilot)
            await type_text(pilot, "150000")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, NewLoanScreen) and screen.offer is not None
            scroll = screen.query_one("#new-loan-scroll")
            lines: list[str] = []
            for y in range(0, int(scroll.max_scroll_y) + 10, 10):  # what a person scrolls past
                scroll.scroll_to(y=y, animate=False)
                await settle(pilot)
                shown = [x[:-2].rstrip() for x in screen_text(app).splitlines()]  # no scrollbar
                lines += [x for x in shown if x not in lines]
            for i in screen.offer.schedule.installments:
                cur = screen.offer.terms.currency
                # Each installment on one line: its whole due date, amount and balance.
                row = [x for x in lines if f" {i.due_date} " in x]
                assert len(row) == 1, (i.due_date, lines)
                assert f"{Money(i.total, cur)}" in row[0]
                assert row[0].endswith(f"{Money(i.balance, cur)}") or size[0] > 80
            assert any("APR 12.00 %" in x for x in lines)


@sync
async def test_an_applied_loan_shows_the_schedule_it_will_get(sqlite_url: str) -> None:
    from ledger.services.loans import apply_for_loan

    with small_ledger(sqlite_url) as (engine, world):
        with sa.orm.Session(engine) as session:
            loan = apply_for_loan(session, actor=OFFICER, ref="L-PLAN",
                                  family_id=world.families[0], product_code="FSF",
                                  fund_code="RIEL", principal=Money.parse(150_000, "KHR"),
                                  repayments=8, applied_on=date(2009, 6, 20), today=TODAY)
            loan_id = loan.id
        assert loan_id is not None
        app = app_on(engine)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            app.open_loan(loan_id)
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, LoanScreen) and screen.page is not None
            planned = [(i.due_date, i.due, i.state) for i in screen.page.installments]
            assert len(planned) == 8 and {s for _, _, s in planned} == {"planned"}
            assert "planned, as if paid out on 2009-06-30" in screen_text(app)
            for key in ("a", "d"):  # approve, then disburse today: the schedule is stored
                await pilot.press(key)
                await settle(pilot)
                await pilot.press("y")
                await settle(pilot)
        with engine.connect() as conn:
            stored = conn.execute(sa.text(
                "SELECT si.due_date, si.principal_minor + si.interest_minor + si.fee_minor "
                "FROM schedule_installment si JOIN loan_schedule ls ON ls.id = si.schedule_id "
                "WHERE ls.loan_id = :l ORDER BY si.number"), {"l": loan_id}).all()
        assert [(str(d), int(t)) for d, t in stored] == \
            [(str(d), due.minor) for d, due, _ in planned]


@sync
async def test_the_palette_opens_a_familys_projection(sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, world):
        app = app_on(engine)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("ctrl+p")
            await settle(pilot)
            await type_text(pilot, "projection for sok 1")
            await pilot.pause(0.5)
            await settle(pilot)
            assert "Projection for… F002 Sok 1" in screen_text(app)
            await pilot.press("enter")
            await settle(pilot, rounds=3)
            screen = app.screen
            assert isinstance(screen, ProjectionsScreen) and screen.grid is not None
            assert screen.grid.family.id == world.families[1]
            await pilot.press("escape")  # pushed over the dashboard: back to it
            await settle(pilot)
            assert not isinstance(app.screen, ProjectionsScreen)


@sync
async def test_quitting_with_unsaved_edits_asks_first(sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, world):
        app = app_on(engine)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.new_loan(world.families[0])
            await settle(pilot)
            await type_text(pilot, "150000")
            await settle(pilot)
            form = app.screen
            assert isinstance(form, NewLoanScreen) and form.dirty
            await pilot.press("ctrl+q")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmDialog)
            assert "New loan" in app.screen.message
            await pilot.press("escape")  # stay, edits kept
            await settle(pilot)
            shown: object = app.screen
            assert shown is form and app.is_running
            assert form.query_one("#new-loan-principal").value == "150000"  # type: ignore[attr-defined]
            await pilot.press("ctrl+q")
            await settle(pilot)
            await pilot.press("y")
            await settle(pilot)
            assert not app.is_running
        assert scalar(engine, "select count(*) from loan") == 0


@sync
async def test_quitting_with_nothing_unsaved_does_not_ask(sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, _):
        app = app_on(engine)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("q")
            await settle(pilot)
            assert not app.is_running
