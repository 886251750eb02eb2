"""A family's page: who they are, members, debts, sensitive facts (only where the role
allows), loans, trainings and follow-ups. Enter opens a loan; n starts a new loan."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static

from tui.screens.base import PageScreen
from tui.screens.data.families import FamilyPage, family_page, family_trainings
from tui.widgets.cells import amount

__all__ = ["FamilyScreen"]


class FamilyScreen(PageScreen):
    """One family."""

    AREA = "Family"
    CSS_PATH = "family.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_loan", "New loan", id="family.new_loan"),
        Binding("p", "projection", "Projection", id="family.projection"),
    ]

    class FamilyLoaded(Message):
        """The family's page was read."""

        def __init__(self, page: FamilyPage, trainings: list[tuple[str, str, str, str]]) -> None:
            self.page, self.trainings = page, trainings
            super().__init__()

    def __init__(self, family_id: int) -> None:
        super().__init__()
        self.family_id = family_id
        self.page: FamilyPage | None = None

    def body(self) -> ComposeResult:
        with VerticalScroll(id="family-scroll"):
            yield Static("reading…", id="family-head")
            yield Static("Loans (Enter opens one)", classes="section")
            table: DataTable[object] = DataTable(id="family-loans", cursor_type="row")
            table.add_column("Loan", width=14, key="ref")
            table.add_column("Status", width=11, key="status")
            table.add_column("Principal", width=12, key="principal")
            table.add_column("Applied", width=10, key="applied")
            table.add_column("Disbursed", width=10, key="disbursed")
            yield table
            yield Static("", id="family-more")

    def on_mount(self) -> None:
        self.reload()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def reload(self) -> None:
        """Read the family's page again (after a new loan, say)."""
        with self.fsf.read_session() as session:
            page = family_page(session, actor=self.ctx.user, family_id=self.family_id)
            trainings = family_trainings(session, self.family_id)
        self.post_message(self.FamilyLoaded(page, trainings))

    @on(FamilyLoaded)
    def _loaded(self, event: FamilyLoaded) -> None:
        p = self.page = event.page
        head = Table.grid(padding=(0, 2))
        head.add_column(style="bold")
        head.add_column()
        head.add_row("Family", f"{p.ref}  {p.name_latin}")
        head.add_row("ឈ្មោះ", p.name)
        head.add_row("Village", f"{p.village}  {p.village_kh}")
        born = f", born {p.birth_year}" if p.birth_year else ""
        head.add_row("Head", f"sex {p.sex}{born}; household {p.household_size}, "
                             f"{p.dependants} dependants")
        phone = f"   phone {p.phone}" if p.phone else ""
        head.add_row("Registered", f"{p.registered_on}{phone}")
        self.query_one("#family-head", Static).update(head)
        table = self.query_one("#family-loans", DataTable)
        table.clear()
        for loan in p.loans:
            table.add_row(loan.ref, loan.status, amount(loan.principal), str(loan.applied_on),
                          str(loan.disbursed_on or ""), key=str(loan.id))
        more = Table.grid(padding=(0, 2))
        more.add_column(style="bold")
        more.add_column()
        for name, relation, khmer in p.members:
            more.add_row("Member", f"{name} ({relation or 'member'})  {khmer}")
        for kind, owed, rate in p.debts:
            more.add_row("Informal debt", f"{kind}: {owed} {rate}")
        if p.sensitive is None:
            more.add_row("Sensitive", "(not shown to your role)")
        else:
            for kind, note in p.sensitive or (("none recorded", ""),):
                more.add_row("Sensitive", f"{kind} {note}".strip())
        for course, skill, status, seen in event.trainings:
            more.add_row("Training", f"{course} {skill}: {status}, {seen}")
        self.query_one("#family-more", Static).update(more)
        if p.loans:
            table.focus()

    @on(DataTable.RowSelected, "#family-loans")
    def _open_loan(self, event: DataTable.RowSelected) -> None:
        self.fsf.open_loan(int(str(event.row_key.value)))

    def action_new_loan(self) -> None:
        self.fsf.new_loan(self.family_id)

    def action_projection(self) -> None:
        from tui.screens.projections import ProjectionsScreen

        self.app.push_screen(ProjectionsScreen(self.family_id))
