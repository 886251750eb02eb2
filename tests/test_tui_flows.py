"""Pilot tests of the app's main flows, asserting on what the ledger then holds."""

from __future__ import annotations

import sqlalchemy as sa
from textual.widgets import DataTable, Input, Select

from ledger.db.tables import core_table
from tests.test_tui_world import (
    OFFICER,
    app_on,
    scalar,
    screen_text,
    settle,
    small_ledger,
    sync,
    type_text,
)
from tui.dialogs import ConfirmDialog, EntryDialog, ErrorDialog
from tui.screens.data.families import search_families
from tui.screens.family import FamilyScreen
from tui.screens.loan import LoanScreen
from tui.screens.new_loan import NewLoanScreen
from tui.widgets.cells import counted


@sync
async def test_find_a_family_by_latin_name_and_open_its_page(sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, world):
        app = app_on(engine)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("2")
            await settle(pilot)
            await type_text(pilot, "sok 1")
            await settle(pilot)
            table = app.screen.query_one("#families-table", DataTable)
            assert table.row_count == 1
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, FamilyScreen)
            assert app.screen.family_id == world.families[1]
            shown = screen_text(app)
            assert "Sok 1" in shown and "សុខ 1" in shown


def test_a_whole_ref_finds_that_family_alone(sqlite_url: str) -> None:
    # Through the ref's index: a search for text inside refs and names reads every family.
    with small_ledger(sqlite_url, families=2) as (engine, _):
        with engine.begin() as conn:
            conn.execute(sa.text("update family set ref = 'F0010' where ref = 'F002'"))
        with sa.orm.Session(engine) as session:
            assert [r.ref for r in search_families(session, "f001", actor=OFFICER)] == ["F001"]
            assert [r.ref for r in search_families(session, "F00", actor=OFFICER)] == [
                "F001", "F0010"]



def test_a_text_search_ignores_case_and_finds_families_by_village(ledger_url: str) -> None:
    with small_ledger(ledger_url, families=3) as (engine, world), \
            sa.orm.Session(engine) as session:
        fam, vil = core_table("family"), core_table("village")
        ref, latin, khmer, village, village_kh = session.execute(
            sa.select(fam.c.ref, fam.c.head_name_latin, fam.c.head_name, vil.c.name_en,
                      vil.c.name_kh).join(vil, vil.c.id == fam.c.village_id)
            .where(fam.c.id == world.families[1])).one()
        in_village = set(session.execute(
            sa.select(fam.c.ref).join(vil, vil.c.id == fam.c.village_id)
            .where(vil.c.name_en == village)).scalars())

        def found(text: str) -> set[str]:
            return {r.ref for r in search_families(session, text, actor=OFFICER)}

        for text in (latin.upper(), latin.lower(), latin[1:].swapcase(), khmer):
            assert ref in found(text), text
        assert found(village.upper()) == found(village.lower()) == in_village
        assert found(village_kh) >= in_village
        assert found("no such family") == set()


@sync
async def test_escape_leaves_the_family_search_so_the_area_keys_work(sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, _):
        app = app_on(engine)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("2")
            await settle(pilot)
            search = app.screen.query_one("#families-search", Input)
            await pilot.press("3")  # typed into the search, as a family ref may hold digits
            await settle(pilot)
            assert search.value == "3" and app.current_mode == "families"
            await pilot.press("escape")
            assert app.screen.focused is app.screen.query_one("#families-table", DataTable)
            await pilot.press("3")
            await settle(pilot)
            assert app.current_mode == "loans" and search.value == "3"


@sync
async def test_escape_leaves_the_reports_date_for_the_list(sqlite_url: str) -> None:
    # The same key, through the same mechanism, in another area with a typed field.
    with small_ledger(sqlite_url) as (engine, _):
        app = app_on(engine)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            await pilot.press("8", "ctrl+d")
            await settle(pilot)
            assert app.screen.focused is app.screen.query_one("#reports-as-of", Input)
            await pilot.press("escape")
            assert app.screen.focused is app.screen.query_one("#reports-list")
            await pilot.press("9")
            await settle(pilot)
            assert app.current_mode == "journal"


@sync
async def test_enter_approve_and_disburse_a_loan(sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, world):
        family = world.families[0]
        app = app_on(engine)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            app.new_loan(family)
            await settle(pilot)
            assert isinstance(app.screen, NewLoanScreen)
            await type_text(pilot, "250000")  # above the product's limit
            await settle(pilot)
            assert "outside FSF's limits" in screen_text(app)
            await pilot.press("ctrl+u")
            await type_text(pilot, "150000")
            await settle(pilot)
            preview = screen_text(app)
            assert "APR 12.00 %" in preview and "interest-only" in preview
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmDialog)
            assert "150,000 ៛" in app.screen.message and "Sok 0" in app.screen.message
            await pilot.press("y")
            await settle(pilot)
            assert isinstance(app.screen, LoanScreen)
            loan_id = app.screen.loan_id
            assert scalar(engine, "select status from loan where id = :i", i=loan_id) == "applied"
            for key in ("a", "d"):
                await pilot.press(key)
                await settle(pilot)
                assert isinstance(app.screen, ConfirmDialog)
                await pilot.press("y")
                await settle(pilot)
            assert scalar(engine, "select status from loan where id = :i", i=loan_id) == "active"
            assert scalar(engine, "select count(*) from journal_entry where kind = "
                                  "'disbursement' and loan_id = :i", i=loan_id) == 1
            assert "Disbursed 150,000 ៛ to Sok 0" in screen_text(app)


@sync
async def test_record_then_reverse_a_repayment(sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, world):
        with sa.orm.Session(engine) as session:
            world.session = session
            loan = world.loan(world.families[0], 200_000)
        app = app_on(engine)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.open_loan(loan)
            await settle(pilot)
            await pilot.press("r")
            await settle(pilot)
            assert isinstance(app.screen, EntryDialog)
            await pilot.press("end", "ctrl+u")
            await type_text(pilot, "21,100")
            await pilot.press("enter", "enter")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmDialog)
            assert "21,100 ៛" in app.screen.message
            await pilot.press("y")
            await settle(pilot)
            assert scalar(engine, "select sum(amount_minor) from repayment where loan_id = :i",
                          i=loan) == 21_100
            result = screen_text(app)
            assert "Recorded 21,100 ៛" in result and "principal now" in result
            await pilot.press("v")
            await settle(pilot)
            assert isinstance(app.screen, EntryDialog)
            await type_text(pilot, "typed twice")
            await pilot.press("enter", "enter")
            await settle(pilot)
            await pilot.press("y")
            await settle(pilot)
            assert scalar(engine, "select reason from repayment_reversal") == "typed twice"
            assert scalar(engine, "select count(*) from journal_entry where kind = 'reversal'") == 1


@sync
async def test_escape_backs_out_of_a_dialog_without_saving(sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, world):
        with sa.orm.Session(engine) as session:
            world.session = session
            loan = world.loan(world.families[0], 200_000)
        app = app_on(engine)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.open_loan(loan)
            await settle(pilot)
            await pilot.press("r")
            await settle(pilot)
            await pilot.press("enter", "enter")  # the suggested amount, today
            await settle(pilot)
            assert isinstance(app.screen, ConfirmDialog)
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, LoanScreen)
            assert scalar(engine, "select count(*) from repayment") == 0


@sync
async def test_a_refused_service_call_becomes_an_error_dialog(sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, world):
        with sa.orm.Session(engine) as session:
            world.session = session
            world.loan(world.families[0], 200_000)
        app = app_on(engine)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.new_loan(world.families[0])  # the family already has an open loan
            await settle(pilot)
            await type_text(pilot, "100000")
            await settle(pilot)
            await pilot.press("ctrl+s")
            await settle(pilot)
            await pilot.press("y")
            await settle(pilot)
            assert isinstance(app.screen, ErrorDialog)
            assert "already has loan" in app.screen.message
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, NewLoanScreen)
            assert scalar(engine, "select count(*) from loan") == 1


@sync
async def test_post_a_village_meeting_in_one_transaction(sqlite_url: str) -> None:
    with small_ledger(sqlite_url, families=4) as (engine, world):
        with sa.orm.Session(engine) as session:
            world.session = session
            first = world.loan(world.families[0], 200_000)
            fourth = world.loan(world.families[3], 100_000)  # same village as the first
        village = world.villages[0]
        app = app_on(engine)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("4")
            await settle(pilot)
            app.screen.query_one("#meeting-village", Select).value = village
            await settle(pilot)
            assert app.screen.query_one("#meeting-paid-0", Input).has_focus
            await type_text(pilot, "21100")
            await settle(pilot)
            assert "21,100 ៛ from 1 family " in screen_text(app)
            await pilot.press("enter")
            await type_text(pilot, "10000")
            await settle(pilot)
            assert "31,100 ៛ from 2 families" in screen_text(app)
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, ConfirmDialog)
            assert "2 repayments totalling 31,100 ៛" in app.screen.message
            await pilot.press("y")
            await settle(pilot)
        paid = dict(sa.orm.Session(engine).execute(
            sa.text("select loan_id, amount_minor from repayment")).all())
        assert paid == {first: 21_100, fourth: 10_000}


def test_counts_read_as_written() -> None:
    assert [counted(n, "loan") for n in (0, 1, 2, 1_000_000)] == [
        "0 loans", "1 loan", "2 loans", "1,000,000 loans"]
    assert counted(1, "family", "families") == "1 family"
    assert counted(3, "family", "families") == "3 families"
