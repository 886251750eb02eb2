"""A loan's page says what became of each installment: a written-off loan's unpaid ones are
WRITTEN OFF (not overdue) and its head shows what was written off and recovered; a loan paid
off early shows paid and waived installments, nothing overdue; a late active loan shows
OVERDUE. Read from the page's own schedule table, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from textual.widgets import DataTable

from ledger.actor import SYSTEM
from ledger.money import Money
from ledger.services.repayments import payoff_quote, record_repayment
from ledger.services.writeoffs import record_recovery, write_off_loan
from tests.test_tui_world import (
    TODAY,
    app_on,
    scalar,
    screen_text,
    settle,
    small_ledger,
    sync,
    type_text,
    until,
)
from tui.app import FsfApp
from tui.dialogs import ConfirmDialog, EntryDialog
from tui.screens.loan import LoanScreen


def riel(n: int) -> Money:
    return Money.parse(n, "KHR")


def states(app: FsfApp) -> list[str]:
    """The State column of the loan page's schedule, top to bottom."""
    table = app.screen.query_one("#loan-schedule", DataTable)
    return [str(table.get_row_at(n)[4]) for n in range(table.row_count)]


@sync
async def test_each_installment_state_follows_what_became_of_the_loan(ledger_url: str) -> None:
    with small_ledger(ledger_url) as (engine, world):
        with sa.orm.Session(engine) as session:
            world.session = session
            gone = world.loan(world.families[0], 200_000, on=date(2008, 1, 15))
            record_repayment(session, actor=SYSTEM, loan_id=gone, amount=riel(21_100),
                             paid_on=date(2008, 2, 15), today=TODAY)
            write_off_loan(session, actor=SYSTEM, loan_id=gone, on=date(2008, 9, 1),
                           today=TODAY, reason="moved to Thailand")
            record_recovery(session, actor=SYSTEM, loan_id=gone, amount=riel(10_000),
                            on=date(2009, 1, 10), today=TODAY)
            early = world.loan(world.families[1], 200_000, on=date(2008, 9, 15))
            record_repayment(session, actor=SYSTEM, loan_id=early, paid_on=date(2008, 12, 20),
                             amount=payoff_quote(session, actor=SYSTEM, loan_id=early,
                                                 as_of=date(2008, 12, 20)), today=TODAY)
            late = world.loan(world.families[2], 100_000, on=date(2008, 1, 15))
            session.commit()
        assert scalar(engine, "select status from loan where id = :i", i=early) == "closed"
        app = app_on(engine)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.open_loan(gone)
            await settle(pilot)
            shown = states(app)
            assert shown[0] == "paid"
            assert shown[1:] == ["WRITTEN OFF"] * 9
            text = screen_text(app)
            assert "[WRITTEN OFF]" in text
            assert "Written off" in text and "recovered 10,000 ៛" in text
            await pilot.press("escape")
            app.open_loan(early)
            await settle(pilot)
            shown = states(app)
            assert set(shown) <= {"paid", "paid late", "waived"}, shown
            assert shown[:4] == ["paid late", "paid late", "paid late", "paid"]
            assert shown[4:] == ["waived"] * 6  # the interest after the payoff is not owed
            await pilot.press("escape")
            app.open_loan(late)
            await settle(pilot)
            assert states(app) == ["OVERDUE"] * 10


@sync
async def test_record_a_recovery_and_see_what_is_still_recoverable(ledger_url: str) -> None:
    with small_ledger(ledger_url) as (engine, world):
        with sa.orm.Session(engine) as session:
            world.session = session
            gone = world.loan(world.families[0], 200_000, on=date(2008, 1, 15))
            write_off_loan(session, actor=SYSTEM, loan_id=gone, on=date(2008, 9, 1),
                           today=TODAY, reason="moved to Thailand")
            session.commit()
        app = app_on(engine)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.open_loan(gone)
            await settle(pilot)
            assert isinstance(app.screen, LoanScreen)
            assert "recovered 0 ៛" in screen_text(app)
            await pilot.press("c")
            await settle(pilot)
            assert isinstance(app.screen, EntryDialog)
            await type_text(pilot, "25000")
            await pilot.press("enter", "enter")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmDialog)
            assert "25,000 ៛" in app.screen.message
            await pilot.press("y")
            await until(pilot, lambda: "Recovered" in screen_text(app))  # saved in the worker
            text = " ".join(screen_text(app).split())  # the result line wraps at 80 columns
            assert "Recovered 25,000 ៛" in text and "recovered 25,000 ៛ so far" in text
            assert "still recoverable" in text
        assert scalar(engine, "select count(*) from journal_entry where kind = 'recovery'") == 1
