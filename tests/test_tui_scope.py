"""A treasurer limited to one village sees, in every area of the app, only the families of
that village and their loans; a family, loan or village page of another is "not in this
ledger", and the journal (every village's entries) is shown to her empty, with the reason.
The officer beside her sees everything."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from textual.widgets import Input, Select

from ledger.actor import Actor, Role
from tests.test_tui_world import (
    OFFICER,
    TODAY,
    app_on,
    screen_text,
    settle,
    small_ledger,
    sync,
)
from tui.dialogs import ErrorDialog
from tui.providers import _loans, _villages
from tui.screens.data.dashboard import monthly_flows
from tui.screens.data.families import search_families
from tui.screens.data.overview import villages as village_lines
from tui.screens.export import ExportScreen
from tui.screens.families import FamiliesScreen
from tui.screens.journal import JournalScreen
from tui.screens.loans import loan_count
from tui.screens.village import VillageScreen
from tui.screens.villages import VillagesScreen
from tui.widgets.paged_table import PagedTable


def _treasurer_of(engine: sa.Engine, village_id: int) -> Actor:
    with engine.connect() as conn:
        code = conn.execute(sa.text("select code from village where id = :i"),
                            {"i": village_id}).scalar_one()
    return Actor("tess", frozenset({Role.TREASURER}), villages=frozenset({code}))


@sync
async def test_a_treasurer_sees_only_her_village_in_every_area(ledger_url: str) -> None:
    with small_ledger(ledger_url) as (engine, world):
        with sa.orm.Session(engine) as session:
            world.session = session
            other, mine = (world.loan(family, 200_000) for family in world.families[:2])
        tess = _treasurer_of(engine, world.villages[1])  # F002's village
        for actor, sees_other in ((tess, False), (OFFICER, True)):
            app = app_on(engine, actor=actor)
            async with app.run_test(size=(120, 40)) as pilot:
                await settle(pilot)
                await pilot.press("2")  # Families: every family, before anything is typed
                await settle(pilot, rounds=3)
                assert isinstance(app.screen, FamiliesScreen)
                shown = screen_text(app)
                assert "F002" in shown and ("F001" in shown) is sees_other
                await pilot.press("escape", "3")  # Loans
                await settle(pilot, rounds=3)
                loans = app.screen.query_one(PagedTable)
                assert loans.total == (2 if sees_other else 1)
                assert ("All loans in villages" in screen_text(app)) is not sees_other
                first = loans.row(0)  # newest first: hers, in either case
                assert first is not None and first[0] == mine
                await pilot.press("5")  # Villages
                await settle(pilot, rounds=3)
                assert isinstance(app.screen, VillagesScreen)
                villages = app.screen.query_one("#villages-table", PagedTable).total
                assert villages == 3 if sees_other else villages == 1  # a family in each
                if not sees_other:  # Enter opens her village's families
                    await pilot.press("enter")
                    await settle(pilot, rounds=3)
                    assert isinstance(app.screen, VillageScreen)
                    assert app.screen.village_id == world.villages[1]
                    with engine.connect() as conn:  # her loan's whole ref, not cut
                        ref = conn.execute(sa.text("select ref from loan where id = :i"),
                                           {"i": mine}).scalar_one()
                    assert "F002" in screen_text(app) and f" {ref} " in screen_text(app)
                    await pilot.press("escape")
                    await settle(pilot)
                await pilot.press("9")  # Journal
                await settle(pilot, rounds=3)
                assert isinstance(app.screen, JournalScreen)
                journal = app.screen.query_one(PagedTable)
                assert (journal.total > 0) is sees_other
                assert ("tess sees only villages" in screen_text(app)) is not sees_other
                # The line that says why takes no room on an officer's journal.
                assert app.screen.query_one("#journal-scope").display is not sees_other
                for open_page, page_id in ((app.open_family, world.families[0]),
                                           (app.open_loan, other),
                                           (app.open_village, world.villages[0])):
                    open_page(page_id)
                    await settle(pilot, rounds=3)
                    refused = isinstance(app.screen, ErrorDialog)
                    assert refused is not sees_other, screen_text(app)
                    if refused:
                        assert "is not in this ledger" in screen_text(app)
                    await pilot.press("escape")
                    await settle(pilot)
                    if not refused:  # the page itself
                        await pilot.press("escape")
                        await settle(pilot)


def test_the_palette_the_finder_and_the_villages_keep_to_her_village(ledger_url: str) -> None:
    with small_ledger(ledger_url) as (engine, world):
        with sa.orm.Session(engine) as session:
            world.session = session
            for family in world.families[:2]:
                world.loan(family, 200_000)
            world.loan(world.families[2], 100_000, on=date(2009, 1, 15))
        tess = _treasurer_of(engine, world.villages[1])
        with sa.orm.Session(engine) as session:
            for actor, families in ((tess, ["F002"]), (OFFICER, ["F001", "F002", "F003"])):
                assert [r.ref for r in search_families(session, "", actor=actor)] == families
                found = {str(name) for _, _, _, name in _loans(session, actor, "l")}
                assert len(found) == len(families)  # a loan each
                villages = {int(v) for v, _, _ in _villages(session, actor, "")}
                assert (villages == {world.villages[1]}) is (actor is tess)
            # A treasurer of every village, through the narrowed reads, sees the officer's.
            codes = frozenset(str(c) for c in session.execute(sa.text(
                "select code from village")).scalars())
            every = Actor("all", frozenset({Role.TREASURER}), villages=codes)
            flows = monthly_flows(session, every, TODAY)
            assert flows == monthly_flows(session, OFFICER, TODAY)
            assert any(lent.amount for _, lent, _ in flows)  # the loan paid out in the window
            # Her village's line, summed from her families alone, is the officer's line.
            hers = village_lines(session, TODAY, actor=tess)
            everyone = village_lines(session, TODAY, actor=OFFICER)
            assert hers == [line for line in everyone if line.id == world.villages[1]]
            assert hers[0].outstanding.amount > 0 and hers[0].active == 1


@sync
async def test_a_treasurer_is_offered_her_collection_sheet_to_export(sqlite_url: str,
                                                                   tmp_path: Path) -> None:
    with small_ledger(sqlite_url) as (engine, world):
        with sa.orm.Session(engine) as session:
            world.session = session
            world.loan(world.families[1], 200_000)
        tess = _treasurer_of(engine, world.villages[1])
        code = next(iter(tess.villages or ()))
        out = tmp_path / "sheet.xlsx"
        app = app_on(engine, actor=tess)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("e")
            await settle(pilot)
            assert isinstance(app.screen, ExportScreen)
            kind = app.screen.query_one("#export-kind", Select)
            assert [value for _, value in kind._options] == ["collection"]
            assert app.screen.query_one("#export-village", Input).value == code
            app.screen.query_one("#export-path", Input).value = str(out)
            await pilot.press("ctrl+s")
            await settle(pilot, rounds=3)
            assert app.screen.written == out
        assert code in " ".join(str(c.value) for c in openpyxl.load_workbook(out).active["A"]
                                if c.value)


_READS = {  # what is read, the index it must not start from, the one it must use
    "villages": (lambda s, who: village_lines(s, TODAY, actor=who),
                 "ix_posting_account_id", "ix_posting_loan_component"),
    # The officer's every village: summed loan by loan over the posting index by loan alone,
    # not each portfolio posting looked up with its entry (12-21 s -> 2.6-4.3 s at 1M).
    "villages, officer": (lambda s, _who: village_lines(s, TODAY, actor=OFFICER),
                          "ix_posting_account_id",
                          "USING COVERING INDEX ix_posting_loan_component"),
    "monthly flows": (lambda s, who: monthly_flows(s, who, TODAY),
                      "ix_posting_account_id", "ix_posting_loan_component"),
    "active loans": (lambda s, who: loan_count(s, status="active", actor=who),
                     "ix_loan_status", "ix_loan_family_id"),
}


@pytest.mark.parametrize("read", list(_READS))
def test_reads_start_from_her_families_and_sums_from_the_right_index_on_sqlite(
        sqlite_url: str, read: str) -> None:
    # Started from the portfolio or cash account (or every active loan), SQLite read the
    # whole ledger and kept hers: 8-12 s for one village's sums at a million loans, 0.5 s for
    # her active loans; 0.01-0.2 s and 1 ms from her families.
    run, avoided, used = _READS[read]
    with small_ledger(sqlite_url) as (engine, world):
        tess = _treasurer_of(engine, world.villages[1])
        seen: list[str] = []

        def keep(conn: object, cursor: object, sql: str, *args: object) -> None:
            if sql.startswith("SELECT"):
                seen.append(sql)

        sa.event.listen(engine, "before_cursor_execute", keep)
        with sa.orm.Session(engine) as session:
            run(session, tess)
            sa.event.remove(engine, "before_cursor_execute", keep)
            assert len(seen) == 1
            # The plan does not hang on the values: any will do for each placeholder.
            plan = "\n".join(str(row[-1]) for row in session.connection().exec_driver_sql(
                "EXPLAIN QUERY PLAN " + seen[0], tuple([0] * seen[0].count("?"))).all())
        assert avoided not in plan and used in plan, plan
