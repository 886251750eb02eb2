"""What stands between typing `fsf` and the first screen: no sub-command module, no Alembic and
no report is imported; the schema check reads one row (and still upgrades an older ledger after
a backup); the dashboard paints and then fills its figures from a worker."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from textual.app import App

from ledger.db import current_revision, head_revision, make_engine, migrate
from ledger.db.migrate import downgrade
from ledger.db.schema_version import schema_is_current, shipped_head
from ledger.users import create_first_admin
from tests.test_tui_world import app_on, screen_text, settle, small_ledger, sync
from tui.app import FsfApp
from tui.cli import opens_the_app
from tui.commands.context import Cli
from tui.opening import open_app
from tui.screens.dashboard import COMPUTING, DashboardScreen

PASSWORD = "correct horse battery staple"
# Modules that cost start-up time and that the first screen does not need.
HEAVY = ("alembic", "numpy", "pandas", "openpyxl", "ledger.reports", "ledger.projection",
         "ledger.approvals", "tui.commands.report_cmd", "tui.commands.compare_cmd")


@pytest.mark.parametrize(("args", "app"), [
    ([], True), (["--db", "x.sqlite"], True), (["--db=x.sqlite", "--user", "dara"], True),
    (["--help"], False), (["--db", "x.sqlite", "report", "portfolio"], False),
    (["--db"], False), (["demo"], False), (["--user", "dara", "--help"], False),
])
def test_only_a_bare_fsf_opens_the_app_without_its_commands(args: list[str], app: bool) -> None:
    assert opens_the_app(args) is app


def test_the_schema_check_reads_the_head_alembic_knows(sqlite_url: str) -> None:
    assert shipped_head() == head_revision() == migrate.head_revision()  # Alembic's
    engine = make_engine(sqlite_url)
    try:
        assert schema_is_current(engine)
        previous = current_revision(engine)
        assert previous is not None
        downgrade(engine, "-1")
        assert not schema_is_current(engine)  # an older ledger is left to Alembic
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_the_schema_check_on_postgresql(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        assert schema_is_current(engine)
    finally:
        engine.dispose()


def test_an_empty_database_is_not_current(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.sqlite'}")
    try:
        assert not schema_is_current(engine)
    finally:
        engine.dispose()


def test_the_way_to_the_first_screen_imports_nothing_heavy(sqlite_url: str) -> None:
    # A fresh interpreter, as `fsf` starts: the app, its first screen, the schema check.
    code = (
        "import json, sys\n"
        "from tui.cli import build_app\n"
        "build_app(commands=False)\n"
        "from tui.opening import schema_is_current, make_app\n"
        "import tui.screens.dashboard, tui.screens.login, tui.providers\n"
        "from ledger.db import make_engine\n"
        f"assert schema_is_current(make_engine({sqlite_url!r}))\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, cwd=Path(__file__).parent.parent)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_an_older_ledger_is_backed_up_then_upgraded_before_the_app_opens(
        sqlite_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    with small_ledger(sqlite_url) as (engine, _):
        with sa.orm.Session(engine) as session:
            create_first_admin(session, name="admin", password=PASSWORD)
            session.commit()
        downgrade(engine, "-1")
        older = current_revision(engine)
    monkeypatch.setenv("FSF_PASSWORD", PASSWORD)
    shown: list[str] = []

    def run_headless(app: FsfApp) -> None:
        async def first_screen(pilot: Any) -> None:
            await settle(pilot)
            shown.append(screen_text(app))
            app.exit()

        App.run(app, headless=True, size=(80, 24), auto_pilot=first_screen)

    monkeypatch.setattr(FsfApp, "run", run_headless, raising=True)
    path = Path(sa.make_url(sqlite_url).database or "")
    open_app(Cli(db=sqlite_url, user="admin"))
    assert older != head_revision()
    engine = make_engine(sqlite_url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
    backups = list((path.parent / "backups").rglob("*")) + list(path.parent.glob("*.bak"))
    assert [b for b in backups if b.is_file()], "no backup was taken before the upgrade"
    assert shown and "Sign in" in shown[0]  # the ledger has users: the login comes first
    # Before the screen is taken, what the wait is for (minutes at national scale).
    said = capsys.readouterr().err.splitlines()
    assert said[0].startswith(f"fsf: this ledger is at schema {older} and this program needs")
    assert said[1:] == ["fsf: upgrading the ledger…",
                        f"fsf: the ledger is at schema {head_revision()}"]


@sync
async def test_the_dashboard_paints_first_and_fills_its_figures_from_a_worker(
        sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, world):
        with sa.orm.Session(engine) as session:
            world.session = session
            world.loan(world.families[0], 200_000)
        app = app_on(engine)
        async with app.run_test(size=(120, 40)) as pilot:
            while not isinstance(app.screen, DashboardScreen):
                await pilot.pause()
            screen = app.screen
            await settle(pilot)
            shown = screen_text(app)
            assert COMPUTING not in shown and "200,000 ៛" in shown
            assert set(screen._parts) == {"waiting", "due", "cash", "flows", "quality",
                                          "at_risk"}



def _with_admin(sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, _), sa.orm.Session(engine) as session:
        create_first_admin(session, name="admin", password=PASSWORD)
        session.commit()


def _first_screen(cli: Cli, monkeypatch: pytest.MonkeyPatch, then: Any = None) -> dict[str, Any]:
    """Run `fsf` (open_app) headless: what its first screen is, then `then(pilot)`'s answer."""
    seen: dict[str, Any] = {}

    def run_headless(app: FsfApp) -> None:
        async def look(pilot: Any) -> None:
            await settle(pilot)
            seen["screen"] = type(app.screen).__name__
            seen["focused"] = app.focused.id if app.focused else None
            names = app.screen.query("#login-name")
            seen["name"] = names.first().value if names else None
            if then is not None:
                seen["then"] = await then(pilot)
            app.exit()

        App.run(app, headless=True, size=(80, 24), auto_pilot=look)

    monkeypatch.setattr(FsfApp, "run", run_headless, raising=True)
    open_app(cli)
    return seen


def test_fsf_on_a_new_ledger_opens_its_setup(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FSF_USER", raising=False)
    seen = _first_screen(Cli(db=str(tmp_path / "new.sqlite")), monkeypatch)
    assert seen["screen"] == "SetupScreen"


def test_fsf_on_a_ledger_with_users_asks_who_signs_in(
        sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _with_admin(sqlite_url)
    monkeypatch.delenv("FSF_USER", raising=False)
    monkeypatch.delenv("FSF_PASSWORD", raising=False)
    seen = _first_screen(Cli(db=sqlite_url), monkeypatch)
    assert (seen["screen"], seen["name"], seen["focused"]) == ("LoginScreen", "", "login-name")


def test_the_user_named_on_the_command_line_only_types_the_password(
        sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _with_admin(sqlite_url)
    monkeypatch.delenv("FSF_PASSWORD", raising=False)  # asked in the form, not at the terminal

    async def sign_in(pilot: Any) -> str | None:
        for key in PASSWORD:
            await pilot.press("space" if key == " " else key)
        await pilot.press("enter")
        for _ in range(50):
            await settle(pilot)
            if pilot.app.ledger.actor is not None:
                return str(pilot.app.ledger.actor.name)
        return None

    seen = _first_screen(Cli(db=sqlite_url, user="admin"), monkeypatch, sign_in)
    assert (seen["screen"], seen["name"], seen["focused"], seen["then"]) == (
        "LoginScreen", "admin", "login-password", "admin")
