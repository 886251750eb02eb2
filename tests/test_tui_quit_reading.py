"""Quitting the app while a worker's read runs (the dashboard's figures take half a minute at a
million loans) stops that read: the worker's thread ends at once instead of when the query
would have, and the stopped read is not reported as a failure. A refresh of the dashboard
stops the reads of the load it supersedes the same way. On both databases."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from textual.pilot import Pilot

from ledger.db.interrupt import interrupt
from tests.test_read_interrupt import slow_sql
from tests.test_tui_world import app_on, screen_text, settle, small_ledger, sync
from tui.app import FsfApp
from tui.dialogs import ErrorDialog
from tui.screens.data import dashboard as data


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Iterator[sa.Engine]:
    url = str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url"))
    with small_ledger(url) as (engine, _):
        yield engine


class SlowCash:
    """The dashboard's fund cash, whose first computation is a read of minutes unless it is
    stopped (later ones are the real figure); and the failures the app reported."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.reading, self.ended = threading.Event(), threading.Event()
        self.raw: list[Any] = []
        self.failures: list[str] = []
        self._real = data.fund_cash
        monkeypatch.setattr(data, "fund_cash", self)
        real_report = FsfApp.report_failure

        def report(app: FsfApp, error: BaseException, **kw: Any) -> None:
            real_report(app, error, **kw)  # shown and logged, unless the app is closing
            if isinstance(app.screen, ErrorDialog) or (
                    app.ledger.error_log and app.ledger.error_log.exists()):
                self.failures.append(repr(error))

        monkeypatch.setattr(FsfApp, "report_failure", report)

    def __call__(self, session: Session, *args: Any) -> Any:
        if self.raw:
            return self._real(session, *args)
        self.raw.append(session.connection().connection.dbapi_connection)
        self.reading.set()
        try:
            session.execute(sa.text(slow_sql(session.connection())))
        finally:
            self.ended.set()
        raise AssertionError("the read was not stopped")

    async def reached(self, pilot: Pilot[None]) -> None:
        """Wait until the slow read is under way."""
        for _ in range(300):
            if self.reading.is_set():
                break
            await pilot.pause(0.1)
        assert self.reading.is_set(), "the dashboard's worker never reached its reads"
        await pilot.pause(0.3)  # inside the query by now

    def ended_within(self, seconds: float) -> bool:
        """Whether the slow read ended within `seconds`; if not, it is ended here, or the
        test would wait minutes for the event loop's threads."""
        stopped = self.ended.wait(seconds)
        if not stopped:
            interrupt(self.raw[0])
        return stopped


def _slow_app(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch,
              tmp_path: Path) -> tuple[SlowCash, FsfApp]:
    """The app on `engine` with the dashboard's cash figure slowed, failures logged."""
    slow = SlowCash(monkeypatch)
    app = app_on(engine)
    app.ledger.error_log = tmp_path / "errors.log"
    return slow, app


@sync
async def test_quitting_stops_the_dashboards_reads(
        engine: sa.Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    slow, app = _slow_app(engine, monkeypatch, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await slow.reached(pilot)
        await pilot.press("q")
    assert slow.ended_within(15), "the read went on after the app quit"
    assert not slow.failures and not app.ledger.error_log.exists()


@sync
async def test_a_refresh_stops_the_load_it_supersedes(
        engine: sa.Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """ctrl+r while the figures are computed: the first load's query stops at once instead of
    sharing the cores with the new load, which shows every figure; nothing is reported."""
    slow, app = _slow_app(engine, monkeypatch, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await slow.reached(pilot)
        await pilot.press("ctrl+r")
        stopped = await asyncio.to_thread(slow.ended_within, 15)
        assert stopped, "the superseded load's read went on"
        await settle(pilot)
        shown = screen_text(app)
    assert "computing…" not in shown and "Fund cash" in shown
    assert not slow.failures and not app.ledger.error_log.exists()
