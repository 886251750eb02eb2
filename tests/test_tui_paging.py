"""The loans and journal lists read pages, never the whole ledger: a million rows open at once;
rows already in memory (an import's preview) are made into lines only when shown."""

from __future__ import annotations

import time

from sqlalchemy.orm import Session
from textual.app import App, ComposeResult

from tests.test_tui_world import settle, sync
from tui.widgets.paged_table import Column, FunctionSource, ListSource, PagedTable

MILLION = 1_000_000


class _Probe(App[None]):
    def __init__(self, source: FunctionSource | ListSource, **options: object) -> None:
        super().__init__()
        self.source, self.options = source, options

    def compose(self) -> ComposeResult:
        yield PagedTable([Column("Loan", 10), Column("Amount", 12, right=True)], self.source,
                         **self.options)  # type: ignore[arg-type]

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


def _shown(app: App[None]) -> str:
    return "\n".join(s.text for s in app.screen._compositor.render_strips())


@sync
async def test_rows_in_memory_become_lines_only_when_shown() -> None:
    made: list[int] = []

    def as_row(index: int, n: int) -> tuple[int, tuple[str, ...]]:
        made.append(index)
        return index, (f"P{n:06d}", "error" if n % 2 else "new")

    app = _Probe(ListSource(range(1_000), as_row), choosable=False,
                 row_style=lambda cells: "bold red" if cells[1] == "error" else "")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.query_one(PagedTable)
        table.focus()
        await settle(pilot)
        assert table.total == 1_000 and sorted(made) == list(range(PagedTable.PAGE))
        await pilot.press("end")
        await settle(pilot)
        assert "P000999" in _shown(app) and len(made) <= 3 * PagedTable.PAGE
        strips = app.screen._compositor.render_strips()
        odd = next(s for s in strips if "P000997" in s.text)
        assert any(seg.style is not None and seg.style.bold and seg.text.startswith("P0")
                   for seg in odd)
        assert not app.screen.active_bindings.get("enter")  # nothing to open: not offered


@sync
async def test_end_shows_the_last_row_under_no_scroll_bar() -> None:
    # Lines are cut to the table's width, so nothing scrolls sideways; a horizontal scroll
    # bar, shown once the vertical one narrowed the table, hid the row under the cursor. The
    # count arrives after the first layout, as from a ledger: the table's width is known then.
    app = _Probe(FunctionSource(lambda _: time.sleep(0.3) or 1_000, lambda _, offset, limit: [
        (n, (f"L{n:07d}", "x")) for n in range(offset, min(offset + limit, 1_000))]))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.query_one(PagedTable)
        table.focus()
        await pilot.press("end")
        await settle(pilot)
        assert table.cursor == 999 and "L0000999" in _shown(app)


@sync
async def test_rows_still_being_computed_show_as_reading() -> None:
    app = _Probe(None)  # type: ignore[arg-type]
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.query_one(PagedTable)
        assert table.total == -1 and "reading…" in _shown(app)
        table.reload(ListSource(["a", "b"], lambda i, x: (i, (x, ""))))
        await settle(pilot)
        assert table.total == 2 and "reading…" not in _shown(app)
