"""The loans and journal lists read pages, never the whole ledger: a million rows open at once."""

from __future__ import annotations

import time

from sqlalchemy.orm import Session
from textual.app import App, ComposeResult

from tests.test_tui_world import settle, sync
from tui.widgets.paged_table import Column, FunctionSource, PagedTable

MILLION = 1_000_000


class _Probe(App[None]):
    def __init__(self, source: FunctionSource) -> None:
        super().__init__()
        self.source = source

    def compose(self) -> ComposeResult:
        yield PagedTable([Column("Loan", 10), Column("Amount", 12, right=True)], self.source)

    from contextlib import contextmanager

    @contextmanager
    def read_session(self):  # type: ignore[no-untyped-def]
        yield Session()


@sync
async def test_a_million_rows_show_their_first_page_at_once_and_read_only_pages() -> None:
    asked: list[tuple[int, int]] = []

    def rows(_: Session, offset: int, limit: int) -> list[tuple[int, tuple[str, ...]]]:
        asked.append((offset, limit))
        return [(n, (f"L{n:07d}", f"{n:,} ៛")) for n in range(offset, min(offset + limit,
                                                                         MILLION))]

    app = _Probe(FunctionSource(lambda _: MILLION, rows))
    started = time.perf_counter()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        first_page = time.perf_counter() - started
        table = app.query_one(PagedTable)
        assert table.total == MILLION and table.virtual_size.height == MILLION + 1
        assert "L0000000" in "\n".join(s.text for s in app.screen._compositor.render_strips())
        table.focus()
        await pilot.press("end")
        await settle(pilot)
        assert table.cursor == MILLION - 1 and table.current_key == MILLION - 1
        assert all(limit == PagedTable.PAGE for _, limit in asked)
        assert len(asked) <= 4  # the first page, the last page (and its neighbour)
    assert first_page < 2.0, first_page
