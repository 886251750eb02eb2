"""Pilot tests of the export and import pages: the files they write are read back, and what an
import adds is read from the ledger."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import openpyxl
import sqlalchemy as sa
from sqlalchemy.orm import Session
from textual.widgets import Button, Input, Select, Static, Switch

from imports.permissions import PERMISSIONS
from ledger.actor import Actor, Role
from ledger.db.tables import core_table
from tests.import_support import FAMILY_HEADERS, write_csv
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
from tui.dialogs import ErrorDialog
from tui.screens.export import ExportScreen
from tui.screens.import_ import ImportScreen
from tui.widgets.paged_table import PagedTable


def _set(app: object, selector: str, value: object) -> None:
    widget = app.screen.query_one(selector)  # type: ignore[attr-defined]
    widget.value = value


@sync
async def test_export_the_auditor_workbook(sqlite_url: str, tmp_path: Path) -> None:
    with small_ledger(sqlite_url) as (engine, world):
        with Session(engine) as session:
            world.session = session
            world.loan(world.families[0], 200_000, ref="L-ONE")
        out = tmp_path / "auditor.xlsx"
        app = app_on(engine)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("e")
            await settle(pilot)
            assert isinstance(app.screen, ExportScreen)
            path = app.screen.query_one("#export-path", Input).value
            assert Path(path) == Path.cwd() / "fsf-ledger-2009-06-30.xlsx"
            _set(app, "#export-path", str(out))
            await pilot.press("ctrl+s")
            await settle(pilot, rounds=3)
            assert app.screen.written == out
            assert f"Wrote {out}" in screen_text(app) and "checks hold" in screen_text(app)
        book = openpyxl.load_workbook(out)
        assert {"Loans", "Journal", "Checks"} <= set(book.sheetnames)
        loans = list(book["Loans"].iter_rows(values_only=True))
        assert [row[loans[0].index("Loan")] for row in loans[1:]] == ["L-ONE"]
        postings = scalar(engine, "select count(*) from posting")
        assert book["Journal"].max_row - 1 == postings
        heads = [r[loans[0].index("Head of family")] for r in loans[1:]]
        assert heads == ["សុខ 0"]


@sync
async def test_export_the_auditor_workbook_of_one_village(sqlite_url: str,
                                                          tmp_path: Path) -> None:
    with small_ledger(sqlite_url) as (engine, world):
        with Session(engine) as session:
            world.session = session
            world.loan(world.families[0], 200_000, ref="L-ONE")
            world.loan(world.families[1], 100_000, ref="L-TWO")
        code = str(scalar(engine, "select v.code from family f join village v "
                          f"on v.id = f.village_id where f.id = {world.families[1]}"))
        out = tmp_path / "village.xlsx"
        app = app_on(engine)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("e")
            await settle(pilot)
            assert app.screen.query_one("#export-row-place").display
            _set(app, "#export-place", "99")
            await settle(pilot)
            assert app.screen.query_one("#export-path", Input).value.endswith(
                "fsf-ledger-99-2009-06-30.xlsx")
            _set(app, "#export-path", str(out))
            await pilot.press("ctrl+s")
            await settle(pilot, rounds=3)
            assert isinstance(app.screen, ErrorDialog)
            assert "99 is not a province in this ledger" in screen_text(app)
            await pilot.press("escape")
            await settle(pilot)
            assert not out.exists()
            _set(app, "#export-place", code)
            await pilot.press("ctrl+s")
            await settle(pilot, rounds=3)
            assert app.screen.written == out
            result = app.screen.query_one("#export-result", Static).content
            assert str(result).startswith(f"Wrote {out} of {code} ")
            # The same place narrows a CSV table.
            _set(app, "#export-kind", "csv")
            await settle(pilot)
            assert app.screen.query_one("#export-place", Input).value == code
            _set(app, "#export-path", str(tmp_path / "families.csv"))
            await pilot.press("ctrl+s")
            await settle(pilot, rounds=3)
            assert app.screen.written == tmp_path / "families.csv"
            result = app.screen.query_one("#export-result", Static).content
            assert str(result).endswith(f": 1 row of families in {code}")
        with (tmp_path / "families.csv").open(encoding="utf-8") as handle:
            families = list(csv.DictReader(handle))
        assert [r["Head of family"] for r in families] == ["សុខ 1"]
        book = openpyxl.load_workbook(out)
        loans = list(book["Loans"].iter_rows(values_only=True))
        assert [row[loans[0].index("Loan")] for row in loans[1:]] == ["L-TWO"]
        assert "Fund position" not in book.sheetnames


@sync
async def test_export_a_pseudonymised_csv_of_families(sqlite_url: str, tmp_path: Path) -> None:
    with small_ledger(sqlite_url) as (engine, _world):
        out = tmp_path / "families.csv"
        app = app_on(engine)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("e")
            await settle(pilot)
            _set(app, "#export-kind", "csv")
            await settle(pilot)
            assert app.screen.query_one("#export-row-table").display
            assert not app.screen.query_one("#export-row-village").display
            assert app.screen.query_one("#export-path", Input).value.endswith(
                "families-2009-06-30.csv")
            app.screen.query_one("#export-pseudonymise", Switch).value = True
            _set(app, "#export-path", str(out))
            await pilot.press("ctrl+s")
            await settle(pilot, rounds=3)
            assert "Wrote" in screen_text(app) and "3 rows of families" in screen_text(app)
        with out.open(encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        assert len(rows) == 4
        text = out.read_text(encoding="utf-8")
        assert "Sok 0" not in text and "សុខ" not in text


@sync
async def test_a_failed_export_becomes_the_error_dialog(sqlite_url: str, tmp_path: Path) -> None:
    with small_ledger(sqlite_url) as (engine, _world):
        out = tmp_path / "statement.xlsx"
        app = app_on(engine)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("e")
            await settle(pilot)
            _set(app, "#export-kind", "family")
            await settle(pilot)
            await pilot.press("ctrl+s")  # no ref yet: asked for, nothing runs
            await settle(pilot)
            assert "give the family's ref" in screen_text(app)
            _set(app, "#export-family", "NOPE")
            _set(app, "#export-path", str(out))
            await pilot.press("ctrl+s")
            await settle(pilot, rounds=3)
            assert isinstance(app.screen, ErrorDialog)
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, ExportScreen)
            assert "not written" in screen_text(app)
            _set(app, "#export-family", "F002")
            _set(app, "#export-path", str(out))
            await pilot.press("ctrl+s")
            await settle(pilot, rounds=3)
            assert app.screen.written == out
        book = openpyxl.load_workbook(out)
        assert "F002" in str(book["Loans"]["A1"].value)


def _unique_villages(engine: sa.Engine) -> list[str]:
    v = core_table("village")
    with engine.connect() as conn:
        return [str(c) for c in conn.execute(
            sa.select(v.c.code).group_by(v.c.code).having(sa.func.count() == 1)
            .order_by(v.c.code).limit(2)).scalars()]


def _families(villages: list[str], bad_sex: str) -> list[list[object]]:
    return [["F101", "ចាន់ ធីតា", "Chan Thida", "F", 1981, 4, 1, villages[0],
             date(2008, 2, 1), None, None],
            ["F102", "កែវ សុផល", "Keo Sophal", bad_sex, 1975, 6, 3, villages[1],
             date(2008, 2, 1), 300_000, 10]]


@sync
async def test_preview_fix_and_import_families(sqlite_url: str, tmp_path: Path) -> None:
    with small_ledger(sqlite_url) as (engine, _world):
        villages = _unique_villages(engine)
        path = write_csv(tmp_path / "families.csv", FAMILY_HEADERS, _families(villages, "Q"))
        app = app_on(engine)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("i")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, ImportScreen)
            assert screen.query_one("#import-kind", Select).value == "families"
            _set(app, "#import-path", str(path))
            await pilot.press("ctrl+r")
            await settle(pilot, rounds=3)
            problems = screen.query_one("#import-problems", PagedTable)
            found = [list(problems.row(i)[1]) for i in range(problems.total)]  # type: ignore[index]
            assert found and all(row[:3] == ["3", "sex", "Q"] for row in found)
            assert screen.query_one("#import-rows", PagedTable).total == 2
            # The first problem's whole message shows below the lists.
            assert f"Row 3, sex: {found[0][3]}" in screen_text(app)
            assert screen.query_one("#import-commit", Button).disabled
            await pilot.press("ctrl+s")  # refused: the preview has problems
            await settle(pilot)
            assert scalar(engine, "select count(*) from family where ref in ('F101', 'F102')") == 0

            write_csv(path, FAMILY_HEADERS, _families(villages, "M"))
            await pilot.press("ctrl+r")
            await settle(pilot, rounds=3)
            assert screen.query_one("#import-problems", PagedTable).total == 0
            assert not screen.query_one("#import-commit", Button).disabled
            assert "2 new rows of families to import" in screen_text(app)
            await pilot.press("ctrl+s")
            await settle(pilot, rounds=3)
            assert screen.result is not None and screen.result.committed
            assert "created 2, unchanged 0" in screen_text(app)
            rows = screen.query_one("#import-rows", PagedTable)
            assert [rows.row(i)[1][2] for i in range(rows.total)] == ["imported"] * 2  # type: ignore[index]
            assert screen.query_one("#import-commit", Button).disabled
    with engine.connect() as conn:
        fam = core_table("family")
        got = dict(conn.execute(sa.select(fam.c.ref, fam.c.head_name_latin)
                                .where(fam.c.ref.in_(["F101", "F102"]))).all())
        sexes = set(conn.execute(sa.select(fam.c.sex).where(fam.c.ref == "F102")).scalars())
    assert got == {"F101": "Chan Thida", "F102": "Keo Sophal"} and sexes == {"M"}


@sync
async def test_palette_opens_export_and_import(sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, _world):
        app = app_on(engine)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            for word, screen in (("import", ImportScreen), ("export", ExportScreen)):
                await pilot.press("ctrl+p")
                await settle(pilot)
                await type_text(pilot, word)
                await pilot.pause(0.5)
                await settle(pilot)
                await pilot.press("enter")
                await settle(pilot)
                assert isinstance(app.screen, screen)
                await pilot.press("escape")
                await settle(pilot)
            assert not isinstance(app.screen, ImportScreen | ExportScreen)
            assert app.screen.query_one("#top-bar") is not None


def test_every_import_kind_has_its_permissions_read_without_the_readers() -> None:
    """The app asks `imports.permissions` what a user may import when the page opens; that
    must not load the readers, whose modules take about half a second."""
    import subprocess
    import sys

    from imports.api import KINDS
    from imports.permissions import PERMISSIONS

    assert list(PERMISSIONS) == list(KINDS)
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, imports.permissions; "
         "print(sorted(m for m in sys.modules if m.startswith('imports.')))"],
        capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "['imports.permissions']"


@sync
async def test_the_import_page_offers_what_the_user_may_import(sqlite_url: str,
                                                               tmp_path: Path) -> None:
    with small_ledger(sqlite_url) as (engine, _world):
        path = write_csv(tmp_path / "families.csv", FAMILY_HEADERS,
                         _families(_unique_villages(engine), "M"))
        admin = Actor("sokha", frozenset({Role.ADMINISTRATOR}))
        auditor = Actor("ana", frozenset({Role.AUDITOR}))
        for actor, offered in ((OFFICER, None), (admin, ["capital", "grants"]), (auditor, [])):
            app = app_on(engine, actor=actor)
            async with app.run_test(size=(120, 40)) as pilot:
                await settle(pilot)
                await pilot.press("i")
                await settle(pilot)
                screen = app.screen
                assert isinstance(screen, ImportScreen)
                kind = screen.query_one("#import-kind", Select)
                values = [value for _, value in kind._options]
                if offered is None:  # officer, approver and administrator: every kind
                    assert values == list(PERMISSIONS)
                elif offered:
                    assert values == offered and not kind.disabled
                else:
                    assert kind.disabled and screen.query_one("#import-preview", Button).disabled
                    assert ("ana may not import anything: imports need the administrator or "
                            "officer role") in screen_text(app)
                    _set(app, "#import-path", str(path))
                    await pilot.press("ctrl+r")  # nothing to preview: no worker, no refusal
                    await settle(pilot)
                    assert screen.preview is None and "may not import" in screen_text(app)
