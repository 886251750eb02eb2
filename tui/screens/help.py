"""F1 / ?: every key of the screen underneath and of the app, with what it does."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

__all__ = ["HelpScreen", "key_rows"]


def key_rows(screen: Screen[Any]) -> list[tuple[str, str, str]]:
    """(key, description, binding id) for every binding of ours (those with an id) active on
    `screen`: the screen's own first, then the app's."""
    seen: set[str] = set()
    out = []
    for key, active in screen.active_bindings.items():
        binding = active.binding
        if not binding.description or not binding.id or binding.id in seen:
            continue
        seen.add(binding.id or key)
        out.append((binding.key_display or screen.app.get_key_display(binding),
                    binding.description, binding.id))
    return sorted(out, key=lambda row: row[2].startswith("app."))


class HelpScreen(ModalScreen[None]):
    """The keys of the screen it was opened over; Escape, F1 or q closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q,question_mark", "close", "Close", id="help.close"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 76; max-width: 98%; height: 90%;
                                  border: thick $primary; background: $surface; }
    """

    def __init__(self, under: Screen[Any]) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        table = Table("Key", "What it does", "Id", box=None, expand=True)
        for key, what, ident in key_rows(self.under):
            table.add_row(key, what, ident)
        with VerticalScroll():
            yield Static("[b]Keys[/b]  (ctrl+p opens the command palette: open a family, a "
                         "loan, a village, a new loan, switch user, or any area)")
            yield Static(table, id="keys")

    def action_close(self) -> None:
        self.dismiss(None)
