"""Maker-checker in the app: one user proposes a write-off on the loan's page, the app refuses
to let that user approve it, another user signs in ("Switch user") and approves it in the
Approvals area, and the write-off is then in the journal — on a demo ledger (demo users need
no password) and on a ledger with real users and passwords, on SQLite and PostgreSQL. Switching
to a treasurer reopens the village meeting on her own village."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from textual.pilot import Pilot
from textual.widgets import Input, Select

from ledger.actor import Actor, Role
from ledger.demo.build import DEMO_ACTOR
from ledger.services.setup import set_fact
from ledger.users import add_user, create_first_admin
from tests.support.world import World
from tests.test_tui_world import (
    app_on,
    scalar,
    screen_text,
    settle,
    small_ledger,
    sync,
    type_text,
    until,
)
from tui.app import FsfApp
from tui.dialogs import ConfirmDialog, EntryDialog, ErrorDialog
from tui.screens.approvals import ApprovalsScreen
from tui.screens.loan import LoanScreen
from tui.screens.login import LoginScreen
from tui.screens.meeting import MeetingScreen

PASSWORD = "long enough 1"


@contextmanager
def ledger_with_loan(url: str, *, demo: bool) -> Iterator[tuple[sa.Engine, World, int]]:
    """The test world with one active loan; a demo ledger, or one with three users (an
    administrator; dara, officer and approver; sophea, approver)."""
    with small_ledger(url) as (engine, world):
        with sa.orm.Session(engine) as session:
            world.session = session
            loan = world.loan(world.families[0], 200_000)
            if demo:
                set_fact(session, "demo", "true")
            else:
                create_first_admin(session, name="admin", password=PASSWORD)
                by = Actor("admin", frozenset({Role.ADMINISTRATOR}))
                add_user(session, actor=by, name="dara", roles=["officer", "approver"],
                         password=PASSWORD)
                add_user(session, actor=by, name="sophea", roles=["approver"],
                         password=PASSWORD)
            session.commit()
        yield engine, world, loan


async def sign_in(pilot: Pilot[None], name: str, password: str = "") -> None:
    """Type a name and a password on the login screen."""
    assert isinstance(pilot.app.screen, LoginScreen)
    await type_text(pilot, name)
    await pilot.press("enter")
    await type_text(pilot, password)
    await pilot.press("enter")
    await settle(pilot)


async def propose_write_off(pilot: Pilot[None], app: FsfApp, loan: int) -> None:
    """On the loan's page: w, a reason, Enter, confirm."""
    app.open_loan(loan)
    await settle(pilot)
    await pilot.press("w")
    await settle(pilot)
    assert isinstance(app.screen, EntryDialog)
    await type_text(pilot, "moved away")
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, ConfirmDialog)
    await pilot.press("y")
    await until(pilot, lambda: "proposed" in screen_text(app))  # saved in the worker
    assert isinstance(app.screen, LoanScreen)


async def approve_refused(pilot: Pilot[None], app: FsfApp, engine: sa.Engine) -> None:
    """The proposer opens Approvals and tries to approve: refused, nothing posted."""
    await pilot.press("escape", "0")
    await settle(pilot)
    assert isinstance(app.screen, ApprovalsScreen)
    assert "write-off" in screen_text(app) and "(you)" in screen_text(app)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, ErrorDialog)
    assert "different user must approve" in app.screen.title_text
    await pilot.press("escape")
    await settle(pilot)
    assert written_off(engine) == 0


async def approve_as_approver(pilot: Pilot[None], app: FsfApp, name: str) -> None:
    """On Approvals, as `name`: Enter, confirm."""
    assert isinstance(app.screen, ApprovalsScreen)
    assert f"You are {name}" in screen_text(app)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, ConfirmDialog)
    assert "write-off of 200,000 ៛" in app.screen.message
    await pilot.press("y")
    await settle(pilot)
    assert "still recoverable" in screen_text(app)


def written_off(engine: sa.Engine) -> int:
    return int(str(scalar(engine, "select count(*) from journal_entry where kind = 'write_off'")))


@sync
async def test_demo_user_proposes_and_the_demo_approver_approves(ledger_url: str) -> None:
    with ledger_with_loan(ledger_url, demo=True) as (engine, _, loan):
        app = app_on(engine, actor=DEMO_ACTOR)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await propose_write_off(pilot, app, loan)
            await pilot.press("escape", "1")
            await settle(pilot)
            assert "1 waiting for approval" in screen_text(app)
            await approve_refused(pilot, app, engine)
            await pilot.press("u")
            await settle(pilot)
            assert "demo-approver" in screen_text(app)  # the demo names its users
            await sign_in(pilot, "demo-approver")
            assert app.ledger.actor is not None and app.ledger.actor.name == "demo-approver"
            assert "demo-approver" in screen_text(app).splitlines()[0]  # the top bar
            await approve_as_approver(pilot, app, "demo-approver")
        assert written_off(engine) == 1
        assert scalar(engine, "select status from loan where id = :i", i=loan) == "written_off"
        assert scalar(engine, "select created_by from journal_entry where kind = 'write_off'") \
            == "demo-approver"
        assert scalar(engine, "select requested_by || '>' || decided_by from pending_approval "
                              "where decision = 'approved'") == "demo-admin>demo-approver"


@sync
async def test_users_with_passwords_switch_to_approve(ledger_url: str) -> None:
    with ledger_with_loan(ledger_url, demo=False) as (engine, _, loan):
        app = app_on(engine, actor=None)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await sign_in(pilot, "dara", PASSWORD)
            await propose_write_off(pilot, app, loan)
            await approve_refused(pilot, app, engine)
            await pilot.press("u")
            await settle(pilot)
            await sign_in(pilot, "demo-approver")  # not a user of a real ledger
            assert isinstance(app.screen, LoginScreen)
            assert "wrong user name or password" in screen_text(app)
            await pilot.press("escape")  # keeps dara
            await settle(pilot)
            assert app.ledger.actor is not None and app.ledger.actor.name == "dara"
            await pilot.press("u")
            await settle(pilot)
            await sign_in(pilot, "sophea", PASSWORD)
            await approve_as_approver(pilot, app, "sophea")
        assert written_off(engine) == 1
        assert scalar(engine, "select decided_by from pending_approval") == "sophea"


@sync
async def test_an_approver_rejects_a_write_off_with_a_reason(sqlite_url: str) -> None:
    with ledger_with_loan(sqlite_url, demo=True) as (engine, _, loan):
        app = app_on(engine, actor=DEMO_ACTOR)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await propose_write_off(pilot, app, loan)
            await pilot.press("u")
            await settle(pilot)
            await sign_in(pilot, "demo-approver")
            await pilot.press("escape", "0", "x")
            await settle(pilot)
            assert isinstance(app.screen, EntryDialog)
            await type_text(pilot, "she paid last week")
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmDialog)
            await pilot.press("y")
            await settle(pilot)
            assert "Nothing waits for approval" in screen_text(app)
        assert written_off(engine) == 0
        assert scalar(engine, "select decision || ': ' || decision_note from pending_approval") \
            == "rejected: she paid last week"
        assert scalar(engine, "select status from loan where id = :i", i=loan) == "active"


@sync
async def test_switching_to_a_treasurer_opens_the_meeting_on_her_village(
        sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, world):
        with sa.orm.Session(engine) as session:
            world.session = session
            for family in world.families[:2]:  # one loan in each of the first two villages
                world.loan(family, 200_000)
            code = session.execute(sa.text("select code from village where id = :i"),
                                   {"i": world.villages[1]}).scalar_one()
            create_first_admin(session, name="admin", password=PASSWORD)
            add_user(session, actor=Actor("admin", frozenset({Role.ADMINISTRATOR})),
                     name="tess", roles=["treasurer"], password=PASSWORD, villages=[code])
            session.commit()
        app = app_on(engine)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("4")
            await settle(pilot)
            # The officer sees every village; the meeting opens on the first, sheet read.
            assert isinstance(app.screen, MeetingScreen)
            assert len(app.screen.village_names) == 2
            assert app.screen.query_one("#meeting-paid-0", Input).has_focus
            await pilot.press("escape", "u")  # out of the typed field, then switch user
            await settle(pilot)
            await sign_in(pilot, "tess", PASSWORD)
            await settle(pilot)
            picker = app.screen.query_one("#meeting-village", Select)
            assert picker.value == world.villages[1]
            assert isinstance(app.screen, MeetingScreen)
            assert list(app.screen.village_names) == [world.villages[1]]
            assert "F002" in screen_text(app) and "F001" not in screen_text(app)
