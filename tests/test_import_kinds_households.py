"""The `households` kind, on SQLite and PostgreSQL: grids from a flat file (one row per line,
the grid's fields repeated or given once), read back through the household service exactly as
written; every bad grid named by row and column with nothing written; a second import changes
nothing; a grid linked to an imported follow-up visit keeps the link."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from imports import commit, validate
from imports.api import columns_of
from imports.preview import ImportPreview, ImportResult
from ledger.db.tables import core_table
from ledger.money import KHR, USD, Money
from ledger.projection import CashLine, ExpenseKind, IncomeSource
from ledger.services.households import latest_grid
from ledger.services.training import CourseInput, EnrollmentInput, add_course, enroll
from tests.import_support import count, write_xlsx
from tests.support.world import ACTOR, TODAY, build_world

D = Decimal
HEADERS = [c.name for c in columns_of("households")]
BLANK_MONTHS = [None] * 12


def _row(ref: str, family: str | None, on: date | None, kind: str, category: str,
         amount: Any = None, *, label: str | None = None, currency: str | None = None,
         months: list[Any] | None = None, **grid: Any) -> list[Any]:
    values = {"grid_ref": ref, "family_ref": family, "recorded_on": on, "kind": kind,
              "category": category, "label": label, "currency": currency, "amount": amount,
              **grid}
    values.update(zip(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                       "nov", "dec"), months or BLANK_MONTHS, strict=True))
    return [values.get(h) for h in HEADERS]


RICE = [100_000] + [None] * 10 + ["300,000"]
GOOD = [
    _row("G1", "F001", date(2008, 6, 1), "income", "wage", "55.00", label="garment factory",
         currency="USD", usd_rate="4,100", rate_on=date(2008, 6, 1), savings="20,000"),
    _row("G1", None, None, "income", "farming", label="rice", months=RICE),
    _row("G1", "F001", date(2008, 6, 1), "expense", "food", "120,000", savings=20_000),
    _row("G2", "F002", date(2008, 7, 1), "income", "activity", 200_000, note="market stall"),
    _row("G2", "F002", date(2008, 7, 1), "expense", "housing", 40_000, note="market stall"),
]


def _run(session: Session, tmp_path: Path, rows: list[list[Any]]
         ) -> tuple[ImportPreview, ImportResult]:
    path = write_xlsx(tmp_path / "households.xlsx", HEADERS, rows, "households")
    preview = validate("households", path, session=session, actor=ACTOR, today=TODAY)
    return preview, commit(preview, session=session, actor=ACTOR)


def _grids(session: Session) -> tuple[int, int, int]:
    return count(session, "household_grid"), count(session, "household_line"), count(
        session, "import_ref")


def test_grids_from_a_flat_file_read_back_as_written(session: Session, tmp_path: Path) -> None:
    world = build_world(session)
    session.commit()
    preview, result = _run(session, tmp_path, GOOD)
    assert preview.valid, preview.problems
    assert result.committed and result.created == 5
    first = latest_grid(session, actor=ACTOR, family_id=world.families[0])
    assert first is not None
    assert (first.recorded_on, first.usd_rate, first.rate_on, first.savings) == (
        date(2008, 6, 1), D(4100), date(2008, 6, 1), D(20_000))
    rice = tuple(D(100_000) if m == 1 else D(300_000) if m == 12 else D(0) for m in range(1, 13))
    assert first.incomes == (CashLine(IncomeSource.WAGE, (D("55.00"),), USD, "garment factory"),
                             CashLine(IncomeSource.FARMING, rice, KHR, "rice", seasonal=True))
    assert first.expenses == (CashLine(ExpenseKind.FOOD, (D(120_000),), KHR),)
    second = latest_grid(session, actor=ACTOR, family_id=world.families[1])
    assert second is not None and second.note == "market stall" and second.usd_rate is None
    assert _grids(session) == (2, 5, 2)

    preview, result = _run(session, tmp_path, GOOD)  # the same file again: nothing new
    assert preview.unchanged == 5 and not result.committed and _grids(session) == (2, 5, 2)
    changed = [*GOOD[:4], _row("G2", "F002", date(2008, 7, 1), "expense", "housing", 45_000)]
    preview, result = _run(session, tmp_path, changed)
    assert {(p.row, p.column) for p in preview.problems} == {(6, "amount")}
    assert "line 2" in preview.problems[0].message and _grids(session) == (2, 5, 2)


def test_every_bad_grid_is_named_and_nothing_is_written(session: Session,
                                                         tmp_path: Path) -> None:
    build_world(session)
    session.commit()
    before = _grids(session)
    bad = [
        _row("B1", "F404", date(2008, 6, 1), "income", "wage", 100_000),
        _row("B2", "F001", date(2008, 6, 1), "income", "wage", 100_000),
        _row("B2", "F001", date(2008, 6, 2), "expense", "food", 50_000),
        _row("B3", "F001", date(2008, 6, 1), "income", "food", 100_000),
        _row("B4", "F001", date(2008, 6, 1), "income", "farming", 5, months=RICE),
        _row("B5", "F001", date(2008, 6, 1), "expense", "health"),
        _row("B6", "F001", date(2008, 6, 1), "income", "wage", "70.00", currency="USD"),
        _row("B7", "F001", date(2030, 1, 1), "income", "wage", 100_000),
        _row("B8", "F001", date(2008, 6, 1), "income", "wage", 100_000, followup_ref="V9"),
        _row("B9", None, date(2008, 6, 1), "income", "wage", 100_000),
        _row("B10", "F001", date(2008, 6, 1), "income", "wage", 100_000, usd_rate="x"),
    ]
    preview, result = _run(session, tmp_path, bad)
    found = {(p.row, p.column) for p in preview.problems}
    assert {(2, "family_ref"), (4, "recorded_on"), (5, "category"), (6, "jan"),
            (7, "amount"), (8, "usd_rate"), (9, "recorded_on"), (10, "followup_ref"),
            (11, "family_ref"), (12, "usd_rate")} <= found, found
    assert not result.committed and _grids(session) == before


def test_a_grid_keeps_its_link_to_an_imported_visit(session: Session, tmp_path: Path) -> None:
    world = build_world(session)
    course = add_course(session, actor=ACTOR, data=CourseInput(
        "SEW-1", "sewing", "PDoWA", "Svay Rieng", date(2008, 1, 7), date(2008, 3, 28), 20,
        Money(D(0), KHR)))
    assert course.id is not None
    enroll(session, actor=ACTOR, today=TODAY, data=EnrollmentInput(
        course.id, world.families[0], date(2008, 1, 7), status="completed",
        completed_on=date(2008, 3, 28)))
    session.commit()
    visits = write_xlsx(tmp_path / "followups.xlsx", [
        "followup_ref", "family_ref", "visited_on", "officer", "activity",
        "employer_or_business", "income", "food"], [
        ["V1", "F001", date(2008, 6, 20), "Chenda", "self-employed", "sewing", 287_000,
         266_500]], "followups")
    preview = validate("followups", visits, session=session, actor=ACTOR, today=TODAY)
    assert commit(preview, session=session, actor=ACTOR).committed
    linked = [_row("G9", "F001", date(2008, 6, 25), "income", "activity", 300_000,
                   followup_ref="V1")]
    preview, result = _run(session, tmp_path, linked)
    assert preview.valid and result.committed, preview.problems
    g, v = core_table("household_grid"), core_table("follow_up_visit")
    visit = session.execute(sa.select(v.c.id)).scalar_one()
    assert session.execute(sa.select(g.c.follow_up_id).where(
        g.c.recorded_on == date(2008, 6, 25))).scalar_one() == visit
    assert count(session, "household_grid") == 2  # the visit's own grid, and this one


def test_the_template_explains_the_flat_layout(tmp_path: Path) -> None:
    import openpyxl

    from imports.template import write_template

    book = openpyxl.load_workbook(write_template("households", tmp_path / "h.xlsx"))
    assert [c.value for c in book["households"][1]] == HEADERS
    rules = [str(r[0].value) for r in book["Instructions"].iter_rows() if r[0].value]
    assert any(r.startswith("One row per line of a grid") for r in rules)
    assert "amount" in HEADERS and HEADERS[-12:] == [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
