"""A small form in a dialog (an amount and a date, a reason): each field is checked as it is
typed and the dialog returns the texts only when every field reads."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

__all__ = ["EntryDialog", "EntryField"]


@dataclass(frozen=True, slots=True)
class EntryField:
    """One field: its name in the result, its label, its starting text, and a check that
    returns a problem to show (None when the text reads)."""

    name: str
    label: str
    value: str = ""
    check: Callable[[str], str | None] | None = None
    placeholder: str = ""


class EntryDialog(ModalScreen[dict[str, str] | None]):
    """Dismisses the field texts by name, or None on Cancel or Escape (nothing is saved)."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
    ]

    def __init__(self, title: str, fields: Sequence[EntryField], *, intro: str = "",
                 submit: str = "Next") -> None:
        super().__init__()
        self.title_text, self.fields, self.intro, self.submit = title, tuple(fields), intro, submit

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.title_text, classes="title")
            if self.intro:
                yield Static(self.intro, markup=False)
            for f in self.fields:
                yield Static(f.label, classes="field-label")
                # compact: a dialog of three fields with its buttons fits in 24 rows
                yield Input(f.value, placeholder=f.placeholder, id=f"field-{f.name}",
                            compact=True)
                yield Static("", id=f"problem-{f.name}", classes="problem", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel (Esc)", id="cancel")
                yield Button(self.submit, id="submit", variant="primary")

    def _problem(self, f: EntryField) -> str | None:
        text = self.query_one(f"#field-{f.name}", Input).value
        return f.check(text) if f.check else None

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("field-")
        for f in self.fields:
            if f.name == name:
                self.query_one(f"#problem-{name}", Static).update(self._problem(f) or "")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input))
        at = inputs.index(event.input)
        if at + 1 < len(inputs):
            inputs[at + 1].focus()
        else:
            self._finish()

    def _finish(self) -> None:
        bad = False
        for f in self.fields:
            problem = self._problem(f)
            self.query_one(f"#problem-{f.name}", Static).update(problem or "")
            if problem and not bad:
                self.query_one(f"#field-{f.name}", Input).focus()
                bad = True
        if not bad:
            self.dismiss({f.name: self.query_one(f"#field-{f.name}", Input).value.strip()
                          for f in self.fields})

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "submit":
            self._finish()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
