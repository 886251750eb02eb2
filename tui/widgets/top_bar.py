"""The line at the top of every screen: the ledger, the area, the day, who acts, and a DEMO
badge when the ledger is the demo one."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

__all__ = ["TopBar"]


class TopBar(Static):
    """Ledger name, area, as-of date, user; a DEMO badge that cannot be missed."""

    DEFAULT_CSS = """
    TopBar { height: 1; background: $primary; color: $text; }
    """

    def __init__(self, area: str) -> None:
        super().__init__(id="top-bar")
        self.area = area

    def on_mount(self) -> None:
        self.refresh_text()

    def refresh_text(self) -> None:
        """Redraw from the app's ledger context."""
        ctx = self.app.ledger  # type: ignore[attr-defined]
        line = Text()
        if ctx.actor is not None and ctx.actor.demo:
            line.append(" DEMO ", style="bold black on yellow")
            line.append(" ")
        line.append(f" {ctx.name} ", style="bold")
        who = ctx.actor.name if ctx.actor is not None else "not signed in"
        line.append(f"│ {self.area} │ as of {ctx.today:%Y-%m-%d} │ {who}")
        self.update(line)
