"""The terminal app on the generated ledger against a bare Textual app, each in a fresh process.

Start to first screen: from just before the process is started to the first screen composed,
idle and painted (every line rendered, as the terminal would be sent it) — a bare `App`
showing one line, against FSF's app (`tui.app.make_app` on the ledger, as `fsf` opens it)
showing its dashboard. Then, in the FSF process: key 3 to the loans list's first page shown;
cursor down on the list; switching areas (Journal and back to Loans); and the same keys again
in a process that presses them as soon as the dashboard is painted, while its worker computes
the figures (at a million loans, for half a minute after the start). Keys go through the
headless driver's message queue as a terminal's would; each is timed until its effect is
painted. Medians of the runs (one process each); the keypress is the p95 of its presses.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # the measured processes import nothing they do not need
    from sqlalchemy.orm import Session

    from bench.timing import Row

__all__ = ["run"]

SIZE = (120, 40)
PRESSES = 30  # cursor-down presses timed per process
SWITCHES = 5  # Journal ⇄ Loans round trips timed per process
TIMEOUT = 60.0  # seconds any one step may take before the benchmark fails
# The dashboard's figures are informative: given up on after this many seconds
# (FSF_BENCH_FIGURES_TIMEOUT; at a million loans they take minutes, in a worker).
FIGURES_TIMEOUT = float(os.environ.get("FSF_BENCH_FIGURES_TIMEOUT", "300"))
BARE_TEXT = "bare app ready"


def _painted(app: Any) -> str:
    """Render every line of the current screen (what a terminal would be sent) as text."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def _until(app: Any, ready: Callable[[], bool], what: str,
                 timeout: float = TIMEOUT) -> float:
    """Wait (yielding to the app) until `ready()` holds, then paint; the moment it did."""
    deadline = time.monotonic() + timeout
    while True:
        if ready():
            _painted(app)
            return time.monotonic()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not done after {timeout:.0f} s")
        await asyncio.sleep(0.0005)


def _key(app: Any, key: str) -> float:
    """Send one key as the terminal driver would; the moment it was sent."""
    from textual import events

    event = events.Key(key, key if len(key) == 1 else None)
    event.set_sender(app)
    sent = time.monotonic()
    app._driver.send_message(event)
    return sent


def _child_bare(started: float) -> dict[str, Any]:
    """A bare app: one line shown at start; a key that changes the line; two screens
    switched as Textual MODES, each a line of text."""
    from textual.app import App, ComposeResult
    from textual.screen import Screen
    from textual.widgets import Static

    result: dict[str, Any] = {}

    class Line(Screen[None]):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

        def compose(self) -> ComposeResult:
            yield Static(self.text)

    class Bare(App[None]):
        MODES: ClassVar[dict[str, Any]] = {"first": lambda: Line("first screen"),
                                           "second": lambda: Line("second screen")}
        BINDINGS: ClassVar[list[Any]] = [("down", "count", "Count"),
                                         ("3", "switch_mode('first')", "First"),
                                         ("9", "switch_mode('second')", "Second")]
        presses = 0

        def compose(self) -> ComposeResult:
            yield Static(BARE_TEXT, id="line")

        def action_count(self) -> None:
            self.presses += 1
            self.query_one("#line", Static).update(f"{BARE_TEXT}: {self.presses}")

    async def pilot(p: Any) -> None:
        app = p.app

        def shows(text: str) -> bool:
            return text in _painted(app)

        shown = await _until(app, partial(shows, BARE_TEXT), "bare app")
        result["start"] = shown - started
        presses = []
        for n in range(1, PRESSES + 1):
            sent = _key(app, "down")
            presses.append(await _until(app, partial(shows, f"{BARE_TEXT}: {n}"),
                                        "bare keypress") - sent)
        result["keypress"] = presses
        switches = []
        for _ in range(SWITCHES + 1):
            for key, text in (("3", "first screen"), ("9", "second screen")):
                sent = _key(app, key)
                switches.append(await _until(app, partial(shows, text), "bare switch") - sent)
        result["switch"] = switches[2:]  # the first visit of each mode composes it
        app.exit()

    Bare().run(headless=True, size=SIZE, auto_pilot=pilot)
    return result


async def _start_steps(app: Any, started: float, result: dict[str, Any]) -> None:
    """Start to the dashboard painted; then, for information, to its figures shown."""
    from tui.screens.dashboard import DashboardScreen

    shown = await _until(app, lambda: isinstance(app.screen, DashboardScreen)
                         and "Dashboard" in _painted(app), "the dashboard")
    result["start"] = shown - started
    try:
        figures = await _until(app, lambda: "computing…" not in _painted(app),
                               "the dashboard's figures", FIGURES_TIMEOUT)
        result["dashboard_figures"] = figures - started
    except TimeoutError:
        result["dashboard_figures"] = None


async def _list_steps(app: Any, started: float, result: dict[str, Any]) -> None:
    """Key 3 to the loans list's first page; cursor down; areas switched back and forth."""
    from tui.screens.journal import JournalScreen
    from tui.screens.loans import LoansScreen
    from tui.widgets.paged_table import PagedTable

    def table() -> Any:
        """The loans list's table, once the Loans screen is current and composed."""
        if not isinstance(app.screen, LoansScreen):
            return None
        found = app.screen.query(PagedTable)
        return found.first() if found else None

    def first_page() -> bool:
        t = table()
        rows = t._pages.get(0) if t is not None else None
        return rows is not None and len(rows) > 0 and rows[0][1][0] in _painted(app)

    def cursor_on(n: int) -> bool:
        t = table()
        return t is not None and t.cursor == n

    def showing(kind: type) -> bool:
        return isinstance(app.screen, kind)

    await _until(app, lambda: app.screen is not None, "the app's first screen")
    sent = _key(app, "3")
    result["loans_first_page"] = await _until(app, first_page, "the loans list") - sent
    result["loans_total"] = getattr(table(), "total", -1)
    presses = []
    for n in range(1, PRESSES + 1):
        sent = _key(app, "down")
        presses.append(await _until(app, partial(cursor_on, n), "cursor down") - sent)
    result["cursor_down"] = presses
    sent = _key(app, "9")  # not Families: its search box keeps digits as typed text
    result["journal_first_visit"] = await _until(
        app, lambda: isinstance(app.screen, JournalScreen) and "Journal" in _painted(app),
        "the journal area") - sent
    switches = []
    for _ in range(SWITCHES):
        for key, kind in (("3", LoansScreen), ("9", JournalScreen)):
            sent = _key(app, key)
            switches.append(await _until(app, partial(showing, kind), "switching areas") - sent)
    result["switch_area"] = switches


async def _busy_steps(app: Any, started: float, result: dict[str, Any]) -> None:
    """`_list_steps` as soon as the dashboard is painted, while it computes its figures;
    whether they were still being computed when the last key's effect was painted."""
    from tui.screens.dashboard import PARTS, DashboardScreen

    await _until(app, lambda: isinstance(app.screen, DashboardScreen)
                 and "Dashboard" in _painted(app), "the dashboard")
    dashboard = app.screen
    await _list_steps(app, started, result)
    result["still_computing"] = any(name not in dashboard._parts for name in PARTS)


def _child_fsf(what: str, url: str, as_of: date, started: float) -> dict[str, Any]:
    from ledger.actor import Actor, Role
    from ledger.db import current_revision, head_revision, make_engine
    from tui.app import FsfApp, LedgerContext

    engine = make_engine(url)
    if current_revision(engine) != head_revision():  # as `fsf` checks before opening
        raise RuntimeError(f"{url} is not a ledger at this program's schema")
    ledger = LedgerContext(engine=engine, today=as_of, actor=Actor("bench", frozenset(Role)),
                           name="Benchmark ledger")
    if what in ("start", "busy"):
        app: FsfApp = FsfApp(ledger)  # what `make_app` builds
    else:
        class Listing(FsfApp):
            # Opens no area, so that the dashboard's figures (computed in a worker for as long
            # as the ledger takes) do not share the process with the keys timed here.
            CSS_PATH = str(Path(inspect.getfile(FsfApp)).with_name(str(FsfApp.CSS_PATH)))

            def _start(self) -> None:
                pass

        app = Listing(ledger)
    steps = {"start": _start_steps, "list": _list_steps, "busy": _busy_steps}[what]
    result: dict[str, Any] = {}
    failure: list[BaseException] = []

    async def pilot(p: Any) -> None:
        try:
            await steps(p.app, started, result)
        except BaseException as exc:  # reported by the parent, after the app has stopped
            failure.append(exc)
        p.app.exit()

    try:
        app.run(headless=True, size=SIZE, auto_pilot=pilot)
    finally:
        engine.dispose()
    if failure:
        raise failure[0]
    if app.return_code or not result:  # the app stopped on an error of its own
        raise RuntimeError(f"the app ended with code {app.return_code} before measuring")
    return result


def _spawn(*args: str) -> dict[str, Any]:
    started = time.monotonic()  # CLOCK_MONOTONIC: the same clock in the child
    done = subprocess.run([sys.executable, "-m", "bench.app", f"{started!r}", *args],
                          capture_output=True, text=True, check=False,
                          timeout=FIGURES_TIMEOUT + 4 * TIMEOUT)
    if done.returncode != 0:
        raise RuntimeError(f"bench.app {args[0]} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(session: Session, as_of: date, runs: int) -> list[Row]:
    """Start to first screen (bare and FSF), loans first page, a keypress, switching areas."""
    from bench.timing import Row, percentile

    url = session.get_bind().engine.url.render_as_string(hide_password=False)
    session.rollback()  # the app's processes read the database on their own
    bare, start, lists, busy = [], [], [], []
    for _ in range(max(1, runs)):  # alternated, so all see the same load on the machine
        bare.append(_spawn("bare"))
        start.append(_spawn("start", url, as_of.isoformat()))
        lists.append(_spawn("list", url, as_of.isoformat()))
        busy.append(_spawn("busy", url, as_of.isoformat()))
    b = statistics.median(r["start"] for r in bare)
    bare_down = percentile([t for r in bare for t in r["keypress"]], 95)
    bare_switch = percentile([t for r in bare for t in r["switch"]], 95)
    first = statistics.median(r["start"] for r in start)
    figures = [r["dashboard_figures"] for r in start]
    shown = statistics.median(figures) if None not in figures else None
    page = statistics.median(r["loans_first_page"] for r in lists)
    journal = statistics.median(r["journal_first_visit"] for r in lists)
    presses = [t for r in lists for t in r["cursor_down"]]
    switches = [t for r in lists for t in r["switch_area"]]
    down95, switch95 = percentile(presses, 95), percentile(switches, 95)
    # The same keys pressed as soon as the dashboard is painted, while it computes.
    keys = [t for r in busy for t in (*r["cursor_down"], *r["switch_area"])]
    keys95 = percentile(keys, 95)
    during = sum(1 for r in busy if r["still_computing"])
    bare_base = "a bare Textual app, start to first screen"
    return [
        Row("app", "start to first screen (the dashboard painted)", first, bare_base, b,
            "≤ 1 s", first <= 1.0),
        Row("app", "start to the dashboard's figures shown", shown or FIGURES_TIMEOUT,
            bare_base, b, "(informative)", None,
            shown=f"> {FIGURES_TIMEOUT:.0f} s" if shown is None else ""),
        Row("app", f"loans list first page (key 3, {lists[0]['loans_total']:,} loans)", page,
            "—", None, "≤ 0.2 s", page <= 0.2),
        Row("app", f"keypress: cursor down on the loans list, p95 of {len(presses)} "
            f"(p50 {statistics.median(presses) * 1000:.1f} ms)", down95,
            "a bare app's key updating a line, p95", bare_down, "≤ 50 ms", down95 <= 0.05),
        Row("app", f"keypress: switching areas (Loans ⇄ Journal), p95 of {len(switches)} "
            f"(p50 {statistics.median(switches) * 1000:.1f} ms)", switch95,
            "a bare app switching two one-line MODES, p95", bare_switch, "≤ 50 ms",
            switch95 <= 0.05),
        Row("app", "Journal area, first visit (key 9)", journal, "—", None, "(informative)",
            None),
        Row("app", f"keypress while the dashboard computes its figures: the keys above "
            f"from its first paint, p95 of {len(keys)} (p50 {statistics.median(keys) * 1000:.1f}"
            f" ms; still computing after the last key in {during} of {len(busy)} runs)",
            keys95, "a bare app's key updating a line, p95", bare_down, "≤ 50 ms",
            keys95 <= 0.05),
    ]


def _main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.app",
                                     description="one measured app process (used by the suite)")
    parser.add_argument("started", type=float, help="time.monotonic() before the spawn")
    parser.add_argument("what", choices=("bare", "start", "list", "busy"))
    parser.add_argument("args", nargs="*")
    args = parser.parse_args(argv)
    if args.what == "bare":
        result = _child_bare(args.started)
    else:
        url, as_of = args.args
        result = _child_fsf(args.what, url, date.fromisoformat(as_of), args.started)
    print(json.dumps(result))


if __name__ == "__main__":
    _main()
