"""SVG snapshots of the dashboard, a loan's page and the village meeting at 80×24 and 120×40,
on a small ledger fixed in every detail (the world's families, two loans with payments, as of
2009-06-30), stored under tests/__snapshots__/. A screen that changes fails its snapshot; after
a deliberate change, look at the new pictures and accept them with `--snapshot-update`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from datetime import date

import pytest
import sqlalchemy as sa
from textual.pilot import Pilot
from textual.widgets import Input

from ledger.actor import SYSTEM
from ledger.money import Money
from ledger.services.repayments import record_repayment
from tests.test_tui_world import TODAY, app_on, settle, small_ledger

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


@pytest.fixture
def ledger(sqlite_url: str) -> Iterator[tuple[sa.Engine, int]]:
    """The test world with two loans in the first village: one paid for five months and then
    late, one young and on time; returns the engine and the first loan's id."""
    with small_ledger(sqlite_url, families=4) as (engine, world):
        with sa.orm.Session(engine) as session:
            world.session = session
            first = world.loan(world.families[0], 200_000, on=date(2008, 11, 14))
            for month in (12, 1, 2, 3, 4):
                record_repayment(session, actor=SYSTEM, loan_id=first, today=TODAY,
                                 amount=Money.parse(21_100, "KHR"),
                                 paid_on=date(2008 if month == 12 else 2009, month, 14))
            world.loan(world.families[3], 100_000, on=date(2009, 2, 16))
            session.commit()
        yield engine, first


async def _still(pilot: Pilot[None]) -> None:
    """Workers done, and text cursors steady (a blinking cursor would differ per run)."""
    await settle(pilot)
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await settle(pilot)


def _go(screen: str, loan: int) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def run(pilot: Pilot[None]) -> None:
        await settle(pilot)
        if screen == "loan":
            pilot.app.open_loan(loan)  # type: ignore[attr-defined]
        elif screen == "meeting":
            await pilot.press("4")
        await _still(pilot)

    return run


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("screen", ["dashboard", "loan", "meeting"])
def test_snapshot(screen: str, size: str, ledger: tuple[sa.Engine, int],
                  snap_compare: Callable[..., bool]) -> None:
    engine, loan = ledger
    assert snap_compare(app_on(engine), terminal_size=SIZES[size], run_before=_go(screen, loan))
