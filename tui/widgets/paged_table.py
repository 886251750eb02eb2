"""A table that reads its rows from the database a page at a time and renders only the lines
on screen (Textual's line API), so a list of a million loans opens as fast as one of ten.

The row count and each page are read in thread workers with their own read-only sessions;
rows not yet read show as "…" for the moment it takes. Rows already in memory (an import's
preview of 100,000 rows) go through `ListSource`, which makes each row's cells only when its
page is shown: Textual's DataTable took 4.3 s of the screen's thread for 20,000 rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from rich.segment import Segment
from rich.style import Style
from textual import work
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.widgets.cells import fit

if TYPE_CHECKING:  # the ORM loads in the workers that read the rows
    from sqlalchemy.orm import Session

__all__ = ["Column", "ListSource", "PagedTable", "RowSource"]

Row = tuple[int, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Column:
    """A column: heading, width in cells (0 = the rest of the line), right-aligned or not."""

    label: str
    width: int = 0
    right: bool = False


class RowSource(Protocol):
    """Where the rows come from: a count and pages, each read with the given session."""

    def count(self, session: Session) -> int: ...

    def rows(self, session: Session, offset: int, limit: int) -> list[Row]: ...


@dataclass(frozen=True, slots=True)
class FunctionSource:
    """A `RowSource` made of two functions."""

    count_fn: Callable[[Session], int]
    rows_fn: Callable[[Session, int, int], list[Row]]

    def count(self, session: Session) -> int:
        return self.count_fn(session)

    def rows(self, session: Session, offset: int, limit: int) -> list[Row]:
        return self.rows_fn(session, offset, limit)


@dataclass(frozen=True, slots=True)
class ListSource:
    """A `RowSource` over items already in memory; `as_row(index, item)` makes a row's cells
    when its page is first shown (the session is not used)."""

    items: Sequence[Any]
    as_row: Callable[[int, Any], Row]

    def count(self, session: Session) -> int:
        return len(self.items)

    def rows(self, session: Session, offset: int, limit: int) -> list[Row]:
        return [self.as_row(i, item)
                for i, item in enumerate(self.items[offset:offset + limit], offset)]


class PagedTable(ScrollView, can_focus=True):
    """A read-only table over a `RowSource`; Enter chooses the row under the cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Up", show=False, id="table.up"),
        Binding("down", "move(1)", "Down", show=False, id="table.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="table.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="table.page_down"),
        Binding("home", "edge(0)", "First", show=False, id="table.first"),
        Binding("end", "edge(1)", "Last", show=False, id="table.last"),
        Binding("enter", "choose", "Open", id="table.open"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {"paged-table--header", "paged-table--cursor"}
    DEFAULT_CSS = """
    PagedTable { height: 1fr; overflow-x: hidden; }
    PagedTable > .paged-table--header { text-style: bold; background: $panel; }
    PagedTable > .paged-table--cursor { background: $block-cursor-background;
                                        color: $block-cursor-foreground; }
    PagedTable:blur > .paged-table--cursor { background: $block-cursor-blurred-background; }
    """
    PAGE = 100
    AHEAD = 50  # rows below the cursor whose page is read before the cursor gets there

    cursor: reactive[int] = reactive(0, repaint=False)  # watch_cursor redraws what changed
    total: reactive[int] = reactive(-1)

    class RowChosen(Message):
        """A row was chosen (Enter or a click)."""

        def __init__(self, table: PagedTable, key: int) -> None:
            self.table, self.key = table, key
            super().__init__()

        @property
        def control(self) -> PagedTable:
            return self.table

    class RowHighlighted(Message):
        """The cursor moved onto a row whose rows are loaded."""

        def __init__(self, table: PagedTable, key: int) -> None:
            self.table, self.key = table, key
            super().__init__()

        @property
        def control(self) -> PagedTable:
            return self.table

    def __init__(self, columns: Sequence[Column], source: RowSource | None, *,
                 id: str | None = None, choosable: bool = True,
                 row_style: Callable[[tuple[str, ...]], str] | None = None) -> None:
        """`source` None: "reading…" until `reload` gives one (its rows are being computed);
        `choosable=False`: Enter chooses nothing (and the footer does not offer it);
        `row_style(cells)` gives a row's style (a Rich style text, "" for none)."""
        super().__init__(id=id)
        self.columns = tuple(columns)
        self.source = source
        self.choosable = choosable
        self.row_style = row_style
        self._styles: dict[str, Style] = {}
        self._pages: dict[int, list[Row]] = {}
        self._loading: set[int] = set()
        self._generation = 0
        self._texts: dict[int, str] = {}  # row index: its line, at `_text_width`
        self._text_width = 0

    # --- loading -------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.reload()

    def reload(self, source: RowSource | None = None) -> None:
        """Forget every page read and read the count and the first page again."""
        if source is not None:
            self.source = source
        self._generation += 1
        self._pages.clear()
        self._loading.clear()
        self._texts.clear()
        if self.source is None:
            self.total = -1
            return
        self._count(self._generation, self.source)

    @work(thread=True, exit_on_error=False, group="paged-table-count")
    def _count(self, generation: int, source: RowSource) -> None:
        with self.app.read_session() as session:  # type: ignore[attr-defined]
            total = source.count(session)
            first = source.rows(session, 0, self.PAGE)
        self.app.call_from_thread(self._counted, generation, total, first)

    def _counted(self, generation: int, total: int, first: list[Row]) -> None:
        if generation != self._generation:
            return
        self._pages[0] = first
        self.total = total
        self.cursor = min(self.cursor, max(total - 1, 0))
        self.virtual_size = Size(self.size.width, total + 1)
        self.refresh()
        self._highlighted()

    @work(thread=True, exit_on_error=False, group="paged-table-page")
    def _page(self, generation: int, page: int) -> None:
        source = self.source
        assert source is not None  # pages are asked for only once a source has a count
        with self.app.read_session() as session:  # type: ignore[attr-defined]
            rows = source.rows(session, page * self.PAGE, self.PAGE)
        self.app.call_from_thread(self._paged, generation, page, rows)

    def _paged(self, generation: int, page: int, rows: list[Row]) -> None:
        if generation != self._generation:
            return
        self._loading.discard(page)
        self._pages[page] = rows
        top = int(self.scroll_offset.y)
        if page * self.PAGE < top + self._visible() and (page + 1) * self.PAGE > top:
            self.refresh()  # a page read ahead of the cursor, not yet shown, needs no redraw
        if self.cursor // self.PAGE == page:
            self._highlighted()

    def row(self, index: int) -> Row | None:
        """The row at `index` if its page has been read (asking for it otherwise)."""
        page, at = divmod(index, self.PAGE)
        rows = self._pages.get(page)
        if rows is None:
            if page not in self._loading and self.total >= 0:
                self._loading.add(page)
                self._page(self._generation, page)
            return None
        return rows[at] if at < len(rows) else None

    @property
    def current_key(self) -> int | None:
        """The key of the row under the cursor, if it has been read."""
        found = self.row(self.cursor) if self.total > 0 else None
        return found[0] if found else None

    # --- rendering -----------------------------------------------------------------------

    def _line(self, cells: Sequence[str], width: int) -> str:
        parts, used = [], 0
        for n, col in enumerate(self.columns):
            size = col.width or max(width - used - 1, 1)
            text = cells[n] if n < len(cells) else ""
            parts.append(fit(text, size, right=col.right))
            used += size + 1
        return fit(" ".join(parts), width)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            style = self.get_component_rich_style("paged-table--header")
            return Strip([Segment(self._line([c.label for c in self.columns], width), style)])
        index = int(self.scroll_offset.y) + y - 1
        base = self.rich_style
        if self.total < 0:
            return Strip([Segment(fit("reading…" if y == 1 else "", width), base)])
        if self.total == 0:
            return Strip([Segment(fit("nothing to show" if y == 1 else "", width), base)])
        if index >= self.total:
            return Strip.blank(width, base)
        style = base
        if index == self.cursor:
            style = self.get_component_rich_style("paged-table--cursor")
        elif self.row_style is not None:
            style = base + self._style_of(index)
        return Strip([Segment(self._row_text(index, width), style)])

    def _style_of(self, index: int) -> Style:
        assert self.row_style is not None
        found = self.row(index)
        name = self.row_style(found[1]) if found is not None else ""
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = Style.parse(name) if name else Style()
        return style

    def _row_text(self, index: int, width: int) -> str:
        """A row's line, kept while the width stays (scrolling redraws every line)."""
        if width != self._text_width or len(self._texts) > 4 * self.PAGE:
            self._texts.clear()
            self._text_width = width
        text = self._texts.get(index)
        if text is None:
            found = self.row(index)
            if found is None:
                return self._line(("…",), width)
            text = self._texts[index] = self._line(found[1], width)
        return text

    # --- moving --------------------------------------------------------------------------

    def _visible(self) -> int:
        return max(self.size.height - 1, 1)

    def watch_cursor(self, old: int, new: int) -> None:
        top = int(self.scroll_offset.y)
        if new < top:
            self.scroll_to(y=new, animate=False)
            self.refresh()
        elif new >= top + self._visible():
            self.scroll_to(y=new - self._visible() + 1, animate=False)
            self.refresh()
        else:  # only the two rows whose look changed (line 0 is the heading)
            self.refresh_line(old + 1)
            self.refresh_line(new + 1)
        if self.total > 0:  # read the next page before the cursor reaches it
            self.row(min(new + self.AHEAD, self.total - 1))
        self._highlighted()

    def _highlighted(self) -> None:
        key = self.current_key
        if key is not None:
            self.post_message(self.RowHighlighted(self, key))

    def _clamp(self, value: int) -> int:
        return max(0, min(value, self.total - 1))

    def action_move(self, step: int) -> None:
        self.cursor = self._clamp(self.cursor + step)

    def action_page(self, step: int) -> None:
        self.cursor = self._clamp(self.cursor + step * self._visible())

    def action_edge(self, end: int) -> None:
        self.cursor = self._clamp(self.total - 1 if end else 0)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.choosable if action == "choose" else True

    def action_choose(self) -> None:
        key = self.current_key
        if key is not None:
            self.post_message(self.RowChosen(self, key))

    def on_click(self, event: object) -> None:
        y = getattr(event, "y", 0)
        if y >= 1 and self.total > 0:
            self.cursor = self._clamp(int(self.scroll_offset.y) + y - 1)
            if getattr(event, "chain", 1) >= 2 and self.choosable:
                self.action_choose()
