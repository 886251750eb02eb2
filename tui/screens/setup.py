"""A new, empty ledger starts here: the province office, the fund and its first capital, the
Foundation's product (seeded), and the first user who will sign in next time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from ledger.actor import SYSTEM
from ledger.money import Money
from ledger.services.errors import ServiceError

if TYPE_CHECKING:
    from tui.app import FsfApp

__all__ = ["SetupAnswers", "SetupScreen", "setup_problems"]


@dataclass(frozen=True, slots=True)
class SetupAnswers:
    """What the setup form gathered, read and checked."""

    office: str
    province: str
    fund_name: str
    capital: Money | None
    contributor: str
    received_on: date
    user: str
    password: str


def setup_problems(values: dict[str, str]) -> tuple[SetupAnswers | None, list[str]]:
    """The answers, or every problem with them (all at once)."""
    problems: list[str] = []
    capital = None
    if values["capital"].strip():
        try:
            capital = Money.parse(values["capital"], "KHR")
        except (ValueError, TypeError) as exc:
            problems.append(f"Capital: {exc}")
    try:
        received = date.fromisoformat(values["received_on"])
    except ValueError:
        problems.append("Received on: write the date as YYYY-MM-DD")
        received = date.today()
    for key, label in (("office", "Province office"), ("province", "Province")):
        if not values[key].strip():
            problems.append(f"{label}: cannot be empty")
    if values["user"].strip() and len(values["password"]) < 8:
        problems.append("Password: at least 8 characters")
    if problems:
        return None, problems
    return SetupAnswers(values["office"].strip(), values["province"].strip(),
                        values["fund_name"].strip() or "Riel loan fund", capital,
                        values["contributor"].strip() or "IOM", received,
                        values["user"].strip(), values["password"]), []


class SetupScreen(ModalScreen[bool]):
    """The short setup of an empty ledger; it cannot be skipped."""

    BINDINGS: ClassVar[list[BindingType]] = []
    DEFAULT_CSS = """
    SetupScreen { align: center middle; }
    SetupScreen > VerticalScroll { width: 72; max-width: 98%; height: 95%;
                                   border: thick $primary; background: $surface; padding: 0 1; }
    SetupScreen .setup-label { padding-top: 1; }
    SetupScreen #setup-problems { color: $error; height: auto; }
    SetupScreen Horizontal { height: 3; align: right middle; }
    """

    class SetupFinished(Message):
        """The ledger was set up."""

    FIELDS = (
        ("office", "Province office (the ledger's name)", "Svay Rieng Provincial Office"),
        ("province", "Province (its villages are loaded)", "Svay Rieng"),
        ("fund_name", "Loan fund", "Riel loan fund"),
        ("capital", "Capital received (riel; empty for none yet)", ""),
        ("contributor", "Contributor", "IOM"),
        ("received_on", "Received on (YYYY-MM-DD)", ""),
        ("user", "First user (administrator) name; empty only if `fsf user add` made one", ""),
        ("password", "Their password (8 characters or more)", ""),
    )

    def compose(self) -> ComposeResult:
        today = cast("FsfApp", self.app).ledger.today
        with VerticalScroll():
            yield Static("[b]Set up this new ledger[/b]  (the Foundation's loan product is "
                         "added for you)")
            for key, label, value in self.FIELDS:
                yield Static(label, classes="setup-label")
                yield Input(value or (today.isoformat() if key == "received_on" else ""),
                            id=f"setup-{key}", password=key == "password")
            yield Static("", id="setup-problems")
            with Horizontal():
                yield Button("Set up the ledger", id="setup-go", variant="primary")

    def _values(self) -> dict[str, str]:
        return {key: self.query_one(f"#setup-{key}", Input).value for key, _, _ in self.FIELDS}

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input))
        at = inputs.index(event.input)
        if at + 1 < len(inputs):
            inputs[at + 1].focus()
        else:
            self._go()

    @on(Button.Pressed, "#setup-go")
    def _go(self) -> None:
        answers, problems = setup_problems(self._values())
        self.query_one("#setup-problems", Static).update("\n".join(problems))
        if answers is not None:
            self.query_one("#setup-problems", Static).update("setting up…")
            self._set_up(answers)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _set_up(self, answers: SetupAnswers) -> None:
        from ledger.services.funds import receive_capital
        from ledger.services.setup import DEFAULT_FUND, setup_ledger
        from tui.commands.auth import has_any_user

        app = cast("FsfApp", self.app)
        actor = app.ledger.actor or SYSTEM
        try:
            with app.write_session() as session:
                if not answers.user and not has_any_user(session):
                    raise ServiceError("First user: nobody could sign in to this ledger: write "
                                       "the administrator's name and password")
                setup_ledger(session, actor=actor, name=answers.office,
                             province=answers.province, fund_name=answers.fund_name)
                if answers.capital is not None and answers.capital.amount > 0:
                    receive_capital(session, actor=actor, fund_code=DEFAULT_FUND, ref="CAP-1",
                                    contributor=answers.contributor, amount=answers.capital,
                                    received_on=answers.received_on)
                if answers.user:
                    from ledger.users import create_first_admin

                    create_first_admin(session, name=answers.user, password=answers.password)
        except ServiceError as exc:
            app.call_from_thread(self._refused, exc.message)
            return
        app.call_from_thread(self._done, answers.office)

    def _refused(self, why: str) -> None:
        self.query_one("#setup-problems", Static).update(why)

    def _done(self, office: str) -> None:
        cast("FsfApp", self.app).ledger.name = office
        self.dismiss(True)

