"""Signing in: once at the start on a ledger that has users, and again whenever someone else
takes the keyboard ("Switch user", key u) — an approver approving what an officer proposed.

A demo ledger has no passwords: its demo users (the administrator and the second approver the
demo's write-offs were approved by) sign in by name alone, so maker-checker can be tried on it.
"""

from __future__ import annotations

from typing import ClassVar, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from ledger.actor import Actor
from ledger.db.tables import core_table

__all__ = ["LoginScreen", "demo_users", "sign_in"]


def demo_users(session: Session) -> dict[str, Actor]:
    """The password-less users of a demo ledger by name (none on a real ledger)."""
    from tui.commands.context import is_demo_ledger

    if not is_demo_ledger(session):
        return {}
    from ledger.demo.build import DEMO_ACTOR, DEMO_APPROVER

    return {a.name: a for a in (DEMO_ACTOR, DEMO_APPROVER)}


def sign_in(session: Session, name: str, password: str) -> Actor:
    """The actor for a user name and password (raises on a wrong pair). On a demo ledger its
    demo users need no password, unless a real user of that name was added."""
    from ledger.users import AuthenticationFailed, authenticate, has_users

    users = core_table("app_user")
    real = session.execute(sa.select(users.c.id).where(users.c.name == name)).first()
    demo = demo_users(session)
    if name in demo and real is None:
        session.rollback()
        return demo[name]
    if not has_users(session) and not demo:
        session.rollback()
        raise AuthenticationFailed("this ledger has no users to sign in as; add them with "
                                   "`fsf user add NAME --role ROLE`")
    return authenticate(session, name=name, password=password)


class LoginScreen(ModalScreen[Actor | None]):
    """User name and password. At the start it cannot be escaped (nothing else is reachable
    before it); when switching user, Escape keeps the current one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Keep the current user", id="login.cancel"),
    ]
    DEFAULT_CSS = """
    LoginScreen { align: center middle; }
    LoginScreen > Vertical { width: 56; max-width: 100%; height: auto; border: thick $primary;
                             background: $surface; padding: 0 1; }
    LoginScreen #login-problem { color: $error; height: auto; }
    LoginScreen .login-hint { color: $text-muted; height: auto; }
    """

    def __init__(self, *, switching: bool = False, name: str | None = None) -> None:
        super().__init__()
        self.switching = switching
        self.name_given = name

    def compose(self) -> ComposeResult:
        from tui.app import FsfApp

        ctx = cast(FsfApp, self.app).ledger
        with Vertical():
            if self.switching and ctx.actor is not None:
                yield Static(f"[b]Switch user[/b]  (now: {ctx.actor.name}; Esc keeps them)")
            else:
                yield Static("[b]Sign in to FSF Ledger[/b]")
            yield Static("", id="login-hint", classes="login-hint")
            yield Input(self.name_given or "", placeholder="user name", id="login-name")
            yield Input(placeholder="password", password=True, id="login-password")
            yield Static("", id="login-problem")
            yield Button("Sign in", id="login-go", variant="primary")

    def on_mount(self) -> None:
        if self.name_given:  # named on the command line: only the password is left to type
            self.query_one("#login-password", Input).focus()
        self._hint()

    @work(thread=True, exit_on_error=False)
    def _hint(self) -> None:
        from tui.app import FsfApp

        with cast(FsfApp, self.app).read_session() as session:
            names = sorted(demo_users(session))
        if names:
            self.app.call_from_thread(
                self.query_one("#login-hint", Static).update,
                f"Demo ledger: sign in as {' or '.join(names)}, no password needed.")

    def action_cancel(self) -> None:
        if self.switching:
            self.dismiss(None)

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
