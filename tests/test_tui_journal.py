"""Pilot test of the Journal area on a real SQLite ledger: a national fund's entries are read
whole, its biggest amount and its sequence numbers included."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from ledger.money import KHR, Money
from ledger.services.funds import receive_capital
from tests.support.world import ACTOR
from tests.test_tui_world import app_on, screen_text, settle, small_ledger, sync
from tui.screens.journal import COLUMNS, JournalScreen
from tui.widgets.paged_table import PagedTable

NATIONAL_CAPITAL = Money.from_minor(200_000_000_000, KHR)  # the national ledger's first entry


def test_the_columns_hold_a_national_ledgers_numbers() -> None:
    # A million loans make 9.4 million entries; nine digits leave room for a hundred times it.
    widths = {c.label: c.width for c in COLUMNS}
    assert widths["Seq"] >= len(str(999_999_999))
    assert widths["Amount"] >= len(str(Money.from_minor(999_999_999_999, KHR)))


@sync
async def test_a_capital_of_two_hundred_billion_riel_is_shown_whole(sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, _world):
        with Session(engine) as s:
            receive_capital(s, actor=ACTOR, fund_code="RIEL", ref="C-NATIONAL",
                            contributor="Ministry", amount=NATIONAL_CAPITAL,
                            received_on=date(2009, 1, 5))
            s.commit()
        app = app_on(engine)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("9")
            await settle(pilot, rounds=3)
            assert isinstance(app.screen, JournalScreen)
            assert app.screen.query_one(PagedTable).total >= 2
            lines = screen_text(app).splitlines()
            newest = next(line for line in lines if "Capital from Ministry" in line)
            assert "200,000,000,000 ៛" in newest, newest
            assert "…" not in newest.split("capital")[0], newest
