"""Pilot tests of the other areas: journal and verify, reports, training follow-ups, the
dashboard, help, the command palette, setup and login; and SVG snapshots at two sizes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

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
from tui.screens.login import LoginScreen
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
async def test_a_new_ledger_starts_with_setup_then_login(sqlite_url: str) -> None:
    from ledger.db import make_engine

    engine = make_engine(sqlite_url)
    try:
        app = app_on(engine, actor=None)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, SetupScreen)
            fields = {"capital": "5,000,000", "user": "dara", "password": "long enough 1"}
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
async def test_named_snapshots(sqlite_url: str, tmp_path: Path, size: tuple[int, int]) -> None:
    with small_ledger(sqlite_url) as (engine, world):
        with sa.orm.Session(engine) as session:
            world.session = session
            loan = world.loan(world.families[0], 200_000)
        app = app_on(engine)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            name = f"dashboard-{size[0]}x{size[1]}.svg"
            svg = Path(app.save_screenshot(name, path=str(tmp_path))).read_text("utf-8")
            assert "Dashboard" in svg and "Portfolio" in svg
            app.open_loan(loan)
            await settle(pilot)
            name = f"loan-{size[0]}x{size[1]}.svg"
            svg = Path(app.save_screenshot(name, path=str(tmp_path))).read_text("utf-8")
            assert "Repayment" in svg and "2008-02-15" in svg
