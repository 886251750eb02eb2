"""A failure inside a handler, an action or a worker becomes an error dialog and the app keeps
answering keys; the traceback goes to the error log beside the ledger. A refusal, or a ledger
another program is writing to, is said in its own words and not logged. Failures that leave
the app unable to draw still end it, as Textual does."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import ClassVar

import pytest
import sqlalchemy as sa
from textual import on, work
from textual.app import ComposeResult, ScreenStackError
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Static

from ledger.db import make_engine
from tests.test_tui_world import (
    app_on,
    scalar,
    screen_text,
    settle,
    small_ledger,
    sync,
    type_text,
    until,
)
from tui.dialogs import ErrorDialog
from tui.dialogs.failure import LOG_NAME, failure_log_path
from tui.screens.base import PageScreen
from tui.screens.families import FamiliesScreen
from tui.screens.loan import LoanScreen


class FaultyPage(PageScreen):
    """A page with a fault in an action, in a message handler and in a worker (each raises
    what a programming mistake would)."""

    AREA = "Faulty"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "broken", "Broken action"),
        Binding("m", "send", "Send a message"),
        Binding("k", "crash_worker", "Broken worker"),
        Binding("z", "fatal", "Fatal"),
        Binding("n", "count", "Count"),
    ]

    class Pinged(Message):
        """Something happened that the page handles badly."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def body(self) -> ComposeResult:
        yield Static("a page", id="faulty-body")

    def action_broken(self) -> None:
        totals: dict[str, int] = {}
        totals["missing family"] += 1  # a KeyError, as a bug would raise

    def action_send(self) -> None:
        self.post_message(self.Pinged())

    @on(Pinged)
    def _pinged(self) -> None:
        raise ValueError("the ping handler failed")

    @work(thread=True)  # exit_on_error left at Textual's default (True)
    def action_crash_worker(self) -> None:
        raise RuntimeError("the worker failed")

    def action_fatal(self) -> None:
        raise ScreenStackError("no screen left to show")

    def action_count(self) -> None:
        self.count += 1


@sync
async def test_an_action_that_raises_shows_a_dialog_and_the_app_keeps_answering(
        sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, _):
        app = app_on(engine)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            page = FaultyPage()
            await app.push_screen(page)
            await settle(pilot)
            await pilot.press("b")
            await settle(pilot)
            assert isinstance(app.screen, ErrorDialog)
            assert app.screen.title_text == "Something went wrong"
            assert "KeyError" in app.screen.message and "missing family" in app.screen.message
            log = Path(str(sa.make_url(sqlite_url).database)).parent / LOG_NAME
            assert str(log) in app.screen.message
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen is page
            await pilot.press("n", "n")  # the page still answers its keys
            assert page.count == 2
            await pilot.press("escape", "2")  # and the app its own: back, then Families
            await settle(pilot)
            assert isinstance(app.screen, FamiliesScreen)
            assert "Sok 0" in screen_text(app)
        assert app.return_code in (None, 0)
        text = log.read_text("utf-8")
        assert "Traceback" in text and "action_broken" in text and "KeyError" in text


@sync
async def test_a_failing_message_handler_and_worker_each_show_one_dialog(
        sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, _):
        app = app_on(engine)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            page = FaultyPage()
            await app.push_screen(page)
            await settle(pilot)
            await pilot.press("m")
            await settle(pilot)
            assert isinstance(app.screen, ErrorDialog)
            assert "the ping handler failed" in app.screen.message
            await pilot.press("escape")
            await settle(pilot)
            await pilot.press("k")
            await settle(pilot)
            assert isinstance(app.screen, ErrorDialog)
            assert "the worker failed" in app.screen.message
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen is page  # one dialog per failure, not two
            await pilot.press("n")
            assert page.count == 1
        log = failure_log_path(engine.url).read_text("utf-8")
        assert "_pinged" in log and "action_crash_worker" in log


@sync
async def test_a_refusal_is_shown_in_its_own_words_and_not_logged(sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, world):
        with sa.orm.Session(engine) as session:
            world.session = session
            loan = world.loan(world.families[0], 200_000)
        app = app_on(engine)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.open_loan(loan)
            await settle(pilot)
            assert isinstance(app.screen, LoanScreen)
            # A write-off proposed twice: the second is refused by the service.
            for _ in range(2):
                await pilot.press("w")
                await settle(pilot)
                for ch in "gone":
                    await pilot.press(ch)
                await pilot.press("enter")
                await settle(pilot)
                await pilot.press("y")
                await settle(pilot)
            assert isinstance(app.screen, ErrorDialog)
            assert "already waits for approval" in app.screen.message
            assert "Something went wrong" not in screen_text(app)
        assert scalar(engine, "select count(*) from pending_approval") == 1
        assert not failure_log_path(engine.url).exists()


async def _record_repayment(pilot: Pilot[None], amount: str) -> None:
    await pilot.press("r")
    await settle(pilot)
    await pilot.press("end", "ctrl+u")
    await type_text(pilot, amount)
    await pilot.press("enter", "enter")
    await settle(pilot)
    await pilot.press("y")


@sync
async def test_a_busy_ledger_is_said_plainly_and_nothing_is_half_saved(sqlite_url: str) -> None:
    # Another program holds the write lock (a month's import, say) for longer than the app
    # waits: the officer is told so, nothing is saved or logged, and once the lock is free the
    # same repayment goes through.
    with small_ledger(sqlite_url) as (engine, world):
        with sa.orm.Session(engine) as session:
            world.session = session
            loan = world.loan(world.families[0], 200_000)
        impatient = make_engine(sqlite_url, busy_timeout_ms=200)
        holder = sqlite3.connect(str(engine.url.database), isolation_level=None)
        try:
            app = app_on(impatient)
            async with app.run_test(size=(80, 24)) as pilot:
                await settle(pilot)
                app.open_loan(loan)
                await settle(pilot)
                holder.execute("BEGIN IMMEDIATE")
                await _record_repayment(pilot, "21,100")
                # Not `settle`: it would wait for the saving worker and raise its failure.
                await until(pilot, lambda: isinstance(app.screen, ErrorDialog))
                assert isinstance(app.screen, ErrorDialog)
                assert app.screen.title_text == "The ledger is busy"
                assert "Nothing was saved" in app.screen.message
                assert "Something went wrong" not in screen_text(app)
                holder.execute("ROLLBACK")
                await pilot.press("escape")
                await settle(pilot)
                assert isinstance(app.screen, LoanScreen)
                await _record_repayment(pilot, "21,100")
                await settle(pilot)
                assert "Recorded 21,100" in screen_text(app)
        finally:
            holder.close()
            impatient.dispose()
        assert scalar(engine, "select count(*) from repayment") == 1
        assert not failure_log_path(engine.url).exists()


@sync
async def test_a_fatal_failure_still_ends_the_app(sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, _):
        app = app_on(engine)
        with pytest.raises(ScreenStackError):
            async with app.run_test(size=(80, 24)) as pilot:
                await settle(pilot)
                await app.push_screen(FaultyPage())
                await settle(pilot)
                await pilot.press("z")
                await settle(pilot)
        assert app.return_code == 1
