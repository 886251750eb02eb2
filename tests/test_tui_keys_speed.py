"""What keeps keypresses fast, checked on the real app: the footer shows every area's keys
without being rebuilt on each switch, and a click on a key presses it; a cursor move redraws
two lines and reads the next page before the cursor gets there; the journal reads an entry's
postings once the cursor rests; the heap is kept from the collector only while the app runs."""

from __future__ import annotations

import asyncio
import gc
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy.orm import Session
from textual.app import App, ComposeResult

import tui.screens.journal as journal_screen
from tests.test_tui_world import app_on, screen_text, settle, small_ledger, sync
from tui.screens.data.journal import entry_postings
from tui.screens.journal import POSTINGS_AFTER, JournalScreen
from tui.screens.loans import LoansScreen
from tui.widgets.key_footer import KeyFooter
from tui.widgets.paged_table import Column, FunctionSource, PagedTable

EVERY_AREA_KEYS = ("q Quit", "1234567890 Areas", "F1 Help", "e Export", "i Import",
                   "^p palette")


def _painted(app: App[None]) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def _footer_line(app: App[None]) -> str:
    return _painted(app).splitlines()[-1]


@sync
async def test_the_footer_shows_each_areas_keys_and_is_not_rebuilt_on_switching(
        sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, _):
        app = app_on(engine)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("3")
            await settle(pilot)
            assert isinstance(app.screen, LoansScreen)
            line = _footer_line(app)
            for shown in ("⏎ Open", "t Status filter", *EVERY_AREA_KEYS):
                assert shown in line, (shown, line)
            footer = app.screen.query_one(KeyFooter)
            assert not footer.children  # one widget draws the line
            drawn = footer._parts
            await pilot.press("9")
            await settle(pilot)
            assert isinstance(app.screen, JournalScreen)
            line = _footer_line(app)
            assert "v Verify" in line and "t Status filter" not in line
            for shown in EVERY_AREA_KEYS:
                assert shown in line, (shown, line)
            await pilot.press("3")
            await settle(pilot)
            # The same footer, its line not laid out again: the keys did not change.
            assert app.screen.query_one(KeyFooter) is footer and footer._parts is drawn
            assert "t Status filter" in _footer_line(app)


@sync
async def test_a_click_on_a_footer_key_presses_it(sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, _):
        app = app_on(engine)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("3")
            await settle(pilot)
            x = _footer_line(app).index("t Status filter")
            await pilot.click(KeyFooter, offset=(x + 3, 0))
            await settle(pilot)
            assert "Active, newest first" in screen_text(app)
            x = _footer_line(app).index("1234567890") + 8  # the "9" of the area keys
            await pilot.click(KeyFooter, offset=(x, 0))
            await settle(pilot)
            assert isinstance(app.screen, JournalScreen)


class _Table(App[None]):
    def __init__(self, source: FunctionSource) -> None:
        super().__init__()
        self.source = source

    def compose(self) -> ComposeResult:
        yield PagedTable([Column("Row", 10)], self.source)

    @contextmanager
    def read_session(self):  # type: ignore[no-untyped-def]
        yield Session()


@sync
async def test_a_cursor_move_redraws_two_lines_and_reads_the_next_page_ahead(
        monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[int] = []

    def rows(_: Session, offset: int, limit: int) -> list[tuple[int, tuple[str, ...]]]:
        asked.append(offset)
        return [(n, (f"row {n}",)) for n in range(offset, min(offset + limit, 1000))]

    drawn: list[int] = []
    render_line = PagedTable.render_line

    def counting(table: PagedTable, y: int):  # type: ignore[no-untyped-def]
        drawn.append(y)
        return render_line(table, y)

    monkeypatch.setattr(PagedTable, "render_line", counting)
    app = _Table(FunctionSource(lambda _: 1000, rows))
    async with app.run_test(size=(60, 24)) as pilot:
        await settle(pilot)
        table = app.query_one(PagedTable)
        table.focus()
        await settle(pilot)
        _painted(app)  # everything drawn once
        drawn.clear()
        await pilot.press("down")
        await settle(pilot)
        _painted(app)
        assert table.cursor == 1 and sorted(drawn) == [1, 2]  # the old row and the new
        assert asked == [0]
        table.cursor = PagedTable.PAGE - PagedTable.AHEAD - 1
        await settle(pilot)
        assert asked == [0]
        await pilot.press("down")
        await settle(pilot)
        assert asked == [0, PagedTable.PAGE]  # read while the cursor is still on page 0
        assert table.cursor < PagedTable.PAGE and table.row(PagedTable.PAGE) is not None


@sync
async def test_the_journal_reads_postings_once_the_cursor_rests(
        sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[int] = []
    postings = entry_postings

    def counting(session: Session, entry_id: int) -> list[tuple[str, str, str, str]]:
        read.append(entry_id)
        return postings(session, entry_id)

    monkeypatch.setattr(journal_screen, "entry_postings", counting)
    with small_ledger(sqlite_url) as (engine, world):
        with Session(engine) as session:
            world.session = session
            for family, on in ((0, date(2008, 11, 14)), (1, date(2009, 2, 16))):
                world.loan(world.families[family], 100_000, on=on)  # disbursed: an entry
            session.commit()
        app = app_on(engine)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("9")
            await settle(pilot)
            await asyncio.sleep(POSTINGS_AFTER * 3)
            await settle(pilot)
            assert len(read) == 1
            table = app.screen.query_one(PagedTable)
            assert table.total >= 3
            for row in (1, 2):  # two moves in one go, as a held arrow key makes them
                table.cursor = row
            await asyncio.sleep(POSTINGS_AFTER * 3)
            await settle(pilot)
            assert read[1:] == [table.current_key]  # not the entry passed on the way
            with Session(engine) as session:
                codes = [code for code, *_ in postings(session, read[-1])]
            shown = screen_text(app)
            assert codes and all(code in shown for code in codes)


@sync
async def test_the_heap_is_kept_from_the_collector_only_while_the_app_runs(
        sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, _):
        app = app_on(engine)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("3")
            await settle(pilot)
            assert gc.get_freeze_count() > 0
        assert gc.get_freeze_count() == 0  # the app's objects may be collected again
