"""What the terminal app loads before its first screen: the dashboard paints before the ORM,
SQLModel, pydantic, the table classes, Alembic or the command line's modules are imported
(its worker loads them afterwards and fills the figures in), and the quick readers the start
uses (the schema revision, the ledger's facts, `ledger.db.tables` on demand) agree with the
slow ones they stand in for."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

import ledger.db
from ledger.db import current_revision, head_revision, make_engine, migrate
from ledger.services.setup import ledger_facts as service_facts
from tests.test_tui_world import TODAY, small_ledger
from tui.commands.context import ledger_facts

ROOT = Path(__file__).resolve().parents[1]
# Loaded by the dashboard's worker, after the first paint; never before it.
AFTER_PAINT = ("sqlmodel", "pydantic", "sqlalchemy.orm", "alembic", "ledger.db.tables",
               "tui.providers", "tui.commands.context", "tui.screens.data.dashboard", "typer")


def _fresh(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def test_the_dashboard_paints_before_the_orm_and_the_tables_load(sqlite_url: str) -> None:
    # As the benchmark and `make_app` start it: a fresh process, the schema checked, the app
    # run headless until the dashboard's figures are in.
    with small_ledger(sqlite_url):
        pass
    code = f"""
import json, sys
from datetime import date
from ledger.actor import Actor, Role
from ledger.db import current_revision, head_revision, make_engine
from tui.app import FsfApp, LedgerContext
from tui.screens.dashboard import COMPUTING, DashboardScreen

engine = make_engine({sqlite_url!r})
assert current_revision(engine) == head_revision()
seen = {{}}
first_load = DashboardScreen._first_load

def recorded(screen):
    seen["painted"] = "\\n".join(s.text for s in screen.app.screen._compositor.render_strips())
    seen["loaded"] = [m for m in {AFTER_PAINT!r} if m in sys.modules]
    first_load(screen)

DashboardScreen._first_load = recorded
app = FsfApp(LedgerContext(engine=engine, today=date.fromisoformat({TODAY.isoformat()!r}),
                           actor=Actor("test", frozenset(Role)), name="Test ledger"))

def shown():
    return "\\n".join(s.text for s in app.screen._compositor.render_strips())

async def pilot(p):
    for _ in range(1200):  # a minute at most
        await p.pause(0.05)
        if "painted" in seen and isinstance(app.screen, DashboardScreen):
            seen["last"] = shown()
            if COMPUTING not in seen["last"]:
                break
    app.exit()

app.run(headless=True, size=(120, 40), auto_pilot=pilot)
seen["after"] = [m for m in {AFTER_PAINT!r} if m in sys.modules]
print(json.dumps(seen))
"""
    seen = json.loads(_fresh(code))
    assert "Dashboard" in seen["painted"] and "computing…" in seen["painted"]
    assert "Needs attention" in seen["painted"]
    assert seen["loaded"] == []
    # The worker loaded what the figures need, and they arrived.
    assert {"sqlalchemy.orm", "ledger.db.tables"} <= set(seen["after"])
    assert "computing…" not in seen["last"] and "Portfolio" in seen["last"]


def test_importing_the_app_and_its_first_screen_loads_no_orm() -> None:
    code = ("import json, sys\n"
            "from ledger.db import current_revision, head_revision, make_engine, read_only\n"
            "import tui.app, tui.screens.dashboard, tui.screens.setup\n"
            f"print(json.dumps([m for m in {AFTER_PAINT!r} if m in sys.modules]))\n")
    assert json.loads(_fresh(code)) == []


def test_the_tables_load_on_first_use_of_ledger_db_tables() -> None:
    code = ("import json, sys\n"
            "import ledger.db\n"
            "before = 'ledger.db.tables' in sys.modules\n"
            "loan = ledger.db.tables.Loan\n"
            "from ledger.db import tables\n"
            "print(json.dumps([before, loan.__tablename__, tables.core_table('fund').name]))\n")
    assert json.loads(_fresh(code)) == [False, "loan", "fund"]
    assert ledger.db.tables.Loan.__tablename__ == "loan"


def test_the_quick_revision_readers_agree_with_alembic(sqlite_url: str, tmp_path: Path) -> None:
    assert head_revision() == migrate.head_revision()
    engine = make_engine(sqlite_url)
    empty = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    try:
        assert current_revision(engine) == migrate.current_revision(engine) == head_revision()
        migrate.downgrade(engine, "-1")
        older = migrate.current_revision(engine)
        assert older is not None and older != head_revision()
        assert current_revision(engine) == older
        assert current_revision(empty) is None and migrate.current_revision(empty) is None
    finally:
        engine.dispose()
        empty.dispose()


def test_the_ledger_facts_read_at_start_are_the_services(sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, _), Session(engine) as session:
        session.execute(sa.text("INSERT INTO app_meta (key, value) VALUES "
                                "('start_test', 'read back')"))
        session.commit()
        facts = ledger_facts(session)
        assert facts == service_facts(session)
        assert facts["start_test"] == "read back"
