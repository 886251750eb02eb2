"""A collection sheet exported, filled in by hand and imported: its payments are posted once."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import sqlalchemy as sa
from sqlmodel import Session

from exports.printables import export_collection_sheet
from imports import commit, validate
from imports.feedback import write_feedback
from imports.kinds.collection import payment_ref
from ledger.db.tables import core_table
from tests.import_support import TODAY, counts
from tests.support.world import ACTOR, build_world

MONTH = "2009-06"


def _sheet(session: Session, tmp_path: Path) -> tuple[Path, str, dict[str, int]]:
    """Two loans in one village, its June sheet exported; returns the file, the village code
    and the sheet row of each loan."""
    world = build_world(session, families=4)
    first, fourth = world.families[0], world.families[3]  # both in the first village
    world.loan(first, 200_000, on=date(2009, 3, 15), ref="LA")
    world.loan(fourth, 200_000, on=date(2009, 3, 15), ref="LB")
    session.commit()
    v = core_table("village")
    code = str(session.execute(sa.select(v.c.code).where(v.c.id == world.villages[0]))
               .scalar_one())
    path = tmp_path / "collection.xlsx"
    export_collection_sheet(session, actor=ACTOR, village_code=code, month=MONTH, path=path,
                            as_of=TODAY)
    book = openpyxl.load_workbook(path)
    rows = {str(r[3].value): r[3].row for r in book.active.iter_rows() if r[3].value in
            ("LA", "LB")}
    assert set(rows) == {"LA", "LB"}
    return path, code, rows


def _fill(path: Path, cells: dict[int, tuple[object, object]]) -> Path:
    book = openpyxl.load_workbook(path)
    sheet = book.active
    for row, (collected, paid_on) in cells.items():
        sheet.cell(row=row, column=10).value = collected  # Collected
        sheet.cell(row=row, column=11).value = paid_on    # Paid on
    book.save(path)
    return path


def test_a_filled_sheet_posts_its_payments_once(session: Session, tmp_path: Path) -> None:
    path, code, rows = _sheet(session, tmp_path)
    _fill(path, {rows["LA"]: (21_100, date(2009, 6, 15))})  # LB left blank: nothing paid
    preview = validate("collection", path, session=session, actor=ACTOR, today=TODAY)
    assert preview.valid, [str(p) for p in preview.problems]
    assert [(r.row, r.ref, r.status) for r in preview.rows] == [
        (rows["LA"], payment_ref(code, MONTH, "LA"), "new")]
    result = commit(preview, session=session, actor=ACTOR)
    assert result.committed and result.created == 1, result.problems
    rp = core_table("repayment")
    paid = session.execute(sa.select(rp.c.ref, rp.c.paid_on, rp.c.amount_minor)).all()
    assert [tuple(p) for p in paid] == [(f"C{code}-{MONTH}-LA", date(2009, 6, 15), 21_100)]
    before = counts(session)
    again = validate("collection", path, session=session, actor=ACTOR, today=TODAY)
    assert again.valid and again.created == 0 and again.unchanged == 1
    assert not commit(again, session=session, actor=ACTOR).committed
    assert counts(session) == before


def test_a_bad_row_is_reported_where_the_officer_wrote_it(session: Session,
                                                          tmp_path: Path) -> None:
    path, _code, rows = _sheet(session, tmp_path)
    _fill(path, {rows["LA"]: (9_000_000, date(2009, 6, 15)),   # more than the payoff
                 rows["LB"]: (1500.5, date(2009, 6, 16))})     # a fractional riel
    before = counts(session)
    preview = validate("collection", path, session=session, actor=ACTOR, today=TODAY)
    found = {(p.row, p.column, p.value) for p in preview.problems}
    assert (rows["LA"], "Collected", "9,000,000 ៛") in found or any(
        p.row == rows["LA"] and p.column == "Collected" and "payoff" in p.message
        for p in preview.problems), [str(p) for p in preview.problems]
    assert (rows["LB"], "Collected", "1500.5") in found, [str(p) for p in preview.problems]
    assert not commit(preview, session=session, actor=ACTOR).committed
    feedback = openpyxl.load_workbook(write_feedback(preview, tmp_path / "fb.xlsx")).active
    assert [(r[0].value, r[5].value) for r in feedback.iter_rows(min_row=2)] == [
        ("error", "LA"), ("error", "LB")]  # the filled rows, marked where they stand
    _fill(path, {rows["LA"]: (21_100, date(2009, 3, 1)), rows["LB"]: (None, None)})
    early = validate("collection", path, session=session, actor=ACTOR, today=TODAY)
    assert [(p.row, p.column) for p in early.problems] == [(rows["LA"], "Paid on")], [
        str(p) for p in early.problems]
    assert counts(session) == before
