"""Signing in, once per session, on a ledger that has users (a demo ledger has none)."""

from __future__ import annotations

from typing import ClassVar, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from ledger.actor import Actor
from ledger.db.tables import core_table

__all__ = ["LoginScreen", "needs_setup", "sign_in"]


def needs_setup(session: Session) -> bool:
    """True for a new, empty ledger: no fund has been opened yet."""
    return session.execute(sa.select(core_table("fund").c.id).limit(1)).first() is None


def sign_in(session: Session, name: str, password: str) -> Actor:
    """The actor for a user name and password (raises on a wrong pair)."""
    from ledger.users import authenticate

    return authenticate(session, name=name, password=password)


class LoginScreen(ModalScreen[Actor]):
    """User name and password; cannot be escaped (nothing else is reachable before it)."""

    BINDINGS: ClassVar[list[BindingType]] = []
    DEFAULT_CSS = """
    LoginScreen { align: center middle; }
    LoginScreen > Vertical { width: 50; height: auto; border: thick $primary;
                             background: $surface; padding: 0 1; }
    LoginScreen #login-problem { color: $error; height: auto; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("[b]Sign in to FSF Ledger[/b]")
            yield Input(placeholder="user name", id="login-name")
            yield Input(placeholder="password", password=True, id="login-password")
            yield Static("", id="login-problem")
            yield Button("Sign in", id="login-go", variant="primary")

    @on(Input.Submitted, "#login-name")
    def _next(self) -> None:
        self.query_one("#login-password", Input).focus()

    @on(Input.Submitted, "#login-password")
    @on(Button.Pressed, "#login-go")
    def _go(self) -> None:
        name = self.query_one("#login-name", Input).value.strip()
        password = self.query_one("#login-password", Input).value
        self.query_one("#login-problem", Static).update("checking…")
        self._check(name, password)

    @work(thread=True, exclusive=True)
    def _check(self, name: str, password: str) -> None:
        from tui.app import FsfApp

        app = cast(FsfApp, self.app)
        try:
            with app.write_session() as session:
                actor = sign_in(session, name, password)
        except Exception as exc:  # a refusal is shown on the form; the user tries again
            app.call_from_thread(self._refused, str(exc))
            return
        app.call_from_thread(self._accepted, actor)

    def _refused(self, why: str) -> None:
        self.query_one("#login-problem", Static).update(why)
        self.query_one("#login-password", Input).value = ""
        self.query_one("#login-password", Input).focus()

    def _accepted(self, actor: Actor) -> None:
        from tui.app import FsfApp

        cast(FsfApp, self.app).ledger.actor = actor
        self.dismiss(actor)
