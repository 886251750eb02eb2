"""What every ledger command shares: which ledger (--db), who acts (--user), what day it is,
and how service refusals reach the terminal (one line; exit 2, or 3 for a role refusal)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

import sqlalchemy as sa
import typer

from ledger.actor import Actor, PermissionDenied
from ledger.db import (
    current_revision,
    head_revision,
    is_busy,
    make_engine,
    read_only,
    resolve_url,
)
from ledger.db.interrupt import Reads, ReadsStopped, stopped_on_ctrl_c
from ledger.services.errors import ServiceError
from tui.commands.errors import CliError, fail

if TYPE_CHECKING:  # the ORM loads with the first session, not with this module
    from sqlalchemy.orm import Session

__all__ = [
    "EXIT_BUSY",
    "EXIT_REFUSED",
    "Cli",
    "acting_actor",
    "demo_banner",
    "echo_demo_banner",
    "get_cli",
    "is_demo_ledger",
    "ledger_facts",
    "ledger_session",
    "open_engine",
    "refuse",
    "run",
]

EXIT_REFUSED = 3
EXIT_BUSY = 2
BUSY_TIMEOUT_ENV = "FSF_BUSY_TIMEOUT_MS"  # how long to wait for another program's write lock
BUSY_MESSAGE = "the ledger is in use by another program; try again in a moment"
DEMO_BANNER = "DEMO ledger: invented families and figures, for training only"
# `app_meta` as a bare Core table: its two columns are all the facts need.
_APP_META = sa.table("app_meta", sa.column("key"), sa.column("value"))
T = TypeVar("T")


@dataclass
class Cli:
    """The global options of `fsf`, resolved once per invocation."""

    db: str | None = None
    user: str | None = None
    today: date = field(default_factory=date.today)
    actor: Actor | None = None  # who signed in, asked once per invocation


def get_cli(ctx: typer.Context) -> Cli:
    """The `Cli` the root callback stored (a default one when a command runs alone in tests)."""
    root = ctx.find_root()
    if not isinstance(root.obj, Cli):
        root.obj = Cli()
    return root.obj


def _sqlite_path(url: str) -> Path | None:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database)


def open_engine(cli: Cli, command: str, *, create: bool = False) -> sa.Engine:
    """The engine of the ledger `--db` names; refuses a missing or out-of-date ledger unless
    `create` (for `fsf init`, `fsf demo`, `fsf db upgrade`)."""
    url = resolve_url(cli.db)
    path = _sqlite_path(url)
    if path is not None and not path.exists():
        if not create:
            fail(command, CliError("--db", f"no ledger at {path}; create one with `fsf init` "
                                   "or `fsf demo`"))
        path.parent.mkdir(parents=True, exist_ok=True)
    busy = os.environ.get(BUSY_TIMEOUT_ENV)
    engine = make_engine(url, busy_timeout_ms=int(busy)) if busy else make_engine(url)
    if not create:
        try:  # read without the write lock: a report may start while an officer records
            current = current_revision(read_only(engine))
        except sa.exc.OperationalError as exc:
            if is_busy(exc):
                fail(command, CliError("busy", BUSY_MESSAGE, status=EXIT_BUSY))
            fail(command, CliError("--db", f"cannot open the ledger: {exc.orig}"))
        if current is None:
            fail(command, CliError("--db", "this database holds no ledger; run `fsf init`"))
        if current != head_revision():
            fail(command, CliError("--db", f"the ledger is at schema {current}, this program "
                                   f"needs {head_revision()}: run `fsf db upgrade`"))
    return engine


@contextmanager
def ledger_session(cli: Cli, command: str, *, reading: bool = False) -> Iterator[Session]:
    """A session on the ledger, closed afterwards; services commit their own use cases.

    `reading` is for commands that only read (reports, exports): their transactions read one
    snapshot and take no write lock (`ledger.db.read_only`), so officers go on recording
    while an auditor's export runs, for a minute at 10,000 loans and hours at a million.
    """
    from sqlalchemy.orm import Session

    engine = open_engine(cli, command)
    reads = Reads()
    try:
        # Ctrl+C stops the statement under way instead of waiting for it (a report of a
        # million loans runs for seconds); what a use case wrote is rolled back as ever.
        with Session(read_only(engine) if reading else engine,
                     expire_on_commit=False) as session, reads.watch(session), \
                stopped_on_ctrl_c(reads):
            cli.today = ledger_today(session, cli.today)
            yield session
    except (sa.exc.OperationalError, ReadsStopped) as exc:
        if reads.stopped:  # stopped by Ctrl+C: end as an interrupted command does
            raise KeyboardInterrupt from None
        if not isinstance(exc, sa.exc.OperationalError) or not is_busy(exc):
            raise
        fail(command, CliError("busy", BUSY_MESSAGE, status=EXIT_BUSY))
    finally:
        engine.dispose()


def refuse(command: str, exc: PermissionDenied) -> NoReturn:
    """A role refusal: one line naming the role needed, exit status 3."""
    fail(command, CliError("refused", str(exc), status=EXIT_REFUSED))


def run(command: str, action: Callable[[], T]) -> T:
    """Run a service call, turning its refusals into one clear line and an exit status."""
    try:
        return action()
    except PermissionDenied as exc:
        refuse(command, exc)
    except ServiceError as exc:
        fail(command, CliError(exc.field or "error", exc.message))
    except sa.exc.OperationalError as exc:
        if not is_busy(exc):
            raise
        fail(command, CliError("busy", BUSY_MESSAGE, status=EXIT_BUSY))


def ledger_facts(session: Session) -> dict[str, str]:
    """Every fact about the ledger (`app_meta`), by key: what `ledger.services.setup` reads,
    read here without loading the services and table classes (`fsf` asks before its app)."""
    return {str(key): str(value) for key, value in session.execute(
        sa.select(_APP_META.c.key, _APP_META.c.value))}


def ledger_today(session: Session, today: date) -> date:
    """The day a command works on: FSF_TODAY when set; a demo ledger's own "today" (the day
    its story stops, 2009-06-30); otherwise the calendar's today."""
    if os.environ.get("FSF_TODAY"):
        return today
    facts = ledger_facts(session)
    if facts.get("demo") == "true" and facts.get("demo_as_of"):
        return date.fromisoformat(facts["demo_as_of"])
    return today


def env_today() -> date:
    """Today, or `FSF_TODAY` (YYYY-MM-DD) so scripts and tests can pin the date."""
    value = os.environ.get("FSF_TODAY")
    return date.fromisoformat(value) if value else date.today()


def acting_actor(cli: Cli, session: Session, command: str = "login") -> Actor:
    """Who this command acts as, signing in once per invocation (see `tui.commands.auth`);
    a wrong name or password exits 3."""
    if cli.actor is None:
        from tui.commands.auth import authenticate

        cli.actor = authenticate(cli, session, command)
    return cli.actor


def is_demo_ledger(session: Session) -> bool:
    """Whether this ledger was built by `fsf demo` (plain SQL: asked before the app opens)."""
    query = sa.select(_APP_META.c.value).where(_APP_META.c.key == "demo")
    return session.execute(query).scalar_one_or_none() == "true"


def demo_banner(session: Session) -> str:
    """The line every command prints on a demo ledger ("" on a real one)."""
    return DEMO_BANNER if is_demo_ledger(session) else ""


def echo_demo_banner(session: Session) -> None:
    """Print the DEMO line first when the ledger is a demo; commands call this before output."""
    banner = demo_banner(session)
    if banner:
        typer.echo(banner)
