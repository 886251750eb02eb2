"""Importing courses, enrollments and follow-up visits: checked row by row, committed through
the training services, their refs kept so a second import changes nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from imports import commit, validate
from imports.preview import ImportPreview
from ledger.db.tables import core_table
from tests.import_support import TODAY, count, write_csv, write_xlsx
from tests.support.world import ACTOR, build_world

COURSES = ["course_ref", "skill", "provider", "place", "starts_on", "ends_on", "capacity",
           "cost", "currency"]
ENROLLMENTS = ["enrollment_ref", "family_ref", "member", "course_ref", "requested_skill",
               "enrollment_status", "enrolled_on", "completed_on", "left_on"]
FOLLOWUPS = ["followup_ref", "enrollment_ref", "family_ref", "visited_on", "officer",
             "activity", "employer_or_business", "income", "food", "housing", "currency",
             "usd_rate", "rate_on", "business_status", "note"]
GOOD_COURSES = [["SEW1", "sewing", "Vocational Centre", "Svay Rieng", date(2008, 2, 1),
                 date(2008, 4, 30), 10, "400,000", "KHR"],
                ["PIG1", "pig-raising", "Agri NGO", "Chipou", "01/05/2008", "31/05/2008", 2,
                 "25", "USD"]]
GOOD_ENROLLMENTS = [
    ["E1", "F001", "", "SEW1", "", "completed", date(2008, 2, 1), date(2008, 4, 30), ""],
    ["E2", "F002", "Sok Dara", "SEW1", "tailoring", "dropped", date(2008, 2, 1), "",
     date(2008, 3, 1)],
    ["E3", "F002", "Sok Dara", "PIG1", "", "enrolled", date(2008, 5, 1), "", ""],
]
GOOD_FOLLOWUPS = [
    ["V1", "E1", "", date(2008, 8, 15), "Officer Dara", "self-employed", "Market stall",
     "250,000", "120,000", "30,000", "", "", "", "running", ""],
    ["V2", "", "F001", date(2008, 11, 15), "Officer Dara", "employed", "Garment factory",
     "90", "30", "10", "USD", "4,100", date(2008, 11, 1), "", "moved to a factory"],
]


def _preview(session: Session, kind: str, path: Path) -> ImportPreview:
    return validate(kind, path, session=session, actor=ACTOR, today=TODAY)


def _import(session: Session, kind: str, path: Path) -> int:
    preview = _preview(session, kind, path)
    assert preview.valid, [str(p) for p in preview.problems]
    result = commit(preview, session=session, actor=ACTOR)
    assert result.committed, result.problems
    return result.created


def _problems(preview: ImportPreview) -> set[tuple[Any, ...]]:
    assert not preview.valid
    return {(p.row, p.column, p.value) for p in preview.problems}


def _files(tmp_path: Path) -> tuple[Path, Path, Path]:
    return (write_xlsx(tmp_path / "courses.xlsx", COURSES, GOOD_COURSES, "courses"),
            write_csv(tmp_path / "enrollments.csv", ENROLLMENTS, GOOD_ENROLLMENTS),
            write_xlsx(tmp_path / "followups.xlsx", FOLLOWUPS, GOOD_FOLLOWUPS))


def test_training_files_import_once(session: Session, tmp_path: Path) -> None:
    build_world(session, families=3)
    session.commit()
    courses, enrollments, followups = _files(tmp_path)
    assert _import(session, "courses", courses) == 2
    assert _import(session, "enrollments", enrollments) == 3
    assert _import(session, "followups", followups) == 2
    e, fm, v = core_table("enrollment"), core_table("family_member"), core_table("follow_up_visit")
    assert count(session, "family_member") == 1  # Sok Dara recorded once, enrolled twice
    rows = session.execute(sa.select(e.c.status, e.c.asked_skill, e.c.family_member_id,
                                     e.c.dropped_on).order_by(e.c.id)).all()
    dara = session.execute(sa.select(fm.c.id)).scalar_one()
    assert [tuple(r) for r in rows] == [
        ("completed", "sewing", None, None), ("dropped", "tailoring", dara, date(2008, 3, 1)),
        ("enrolled", "pig-raising", dara, None)]
    visits = session.execute(sa.select(v.c.income_minor, v.c.costs_minor, v.c.entered_currency,
                                       v.c.entered_income_minor).order_by(v.c.id)).all()
    assert [tuple(r) for r in visits] == [(250_000, 150_000, "KHR", 250_000),
                                          (369_000, 164_000, "USD", 9_000)]
    assert count(session, "import_ref") == 5
    before = {t: count(session, t) for t in ("course", "enrollment", "follow_up_visit",
                                             "import_ref", "import_batch")}
    for kind, path, rows_in in (("courses", courses, 2), ("enrollments", enrollments, 3),
                                ("followups", followups, 2)):
        again = _preview(session, kind, path)
        assert again.valid and again.created == 0 and again.unchanged == rows_in, kind
        assert not commit(again, session=session, actor=ACTOR).committed
    assert before == {t: count(session, t) for t in before}


def test_bad_rows_are_reported_with_row_column_and_value(session: Session,
                                                         tmp_path: Path) -> None:
    build_world(session, families=3)
    session.commit()
    bad_courses = write_xlsx(tmp_path / "bad_courses.xlsx", COURSES, [
        GOOD_COURSES[0],
        ["LATE", "sewing", "Centre", "Town", date(2008, 5, 1), date(2008, 4, 1), 5, "0", ""]])
    assert ((3, "ends_on", "2008-04-01") in
            _problems(_preview(session, "courses", bad_courses)))
    courses, enrollments, _followups = _files(tmp_path)
    _import(session, "courses", courses)
    bad_enrollments = write_csv(tmp_path / "bad_enrollments.csv", ENROLLMENTS, [
        GOOD_ENROLLMENTS[0],
        ["E8", "F003", "", "SEW1", "", "completed", "2008-02-01", "", ""],
        ["E9", "F003", "", "NOPE", "", "", "2008-02-01", "", ""],
        ["E10", "F002", "", "SEW1", "", "dropped", "2008-03-01", "", "2008-02-01"]])
    found = _problems(_preview(session, "enrollments", bad_enrollments))
    assert {(3, "completed_on", ""), (4, "course_ref", "NOPE"),
            (5, "left_on", "2008-02-01")} <= found, found
    assert not any(row == 2 for row, _c, _v in found)
    _import(session, "enrollments", enrollments)
    bad_followups = write_xlsx(tmp_path / "bad_followups.xlsx", FOLLOWUPS, [
        ["V7", "E1", "", date(2008, 8, 15), "Officer", "employed", "Shop", "-5000", "", "",
         "", "", "", "", ""],
        ["V8", "E1", "", date(2008, 1, 15), "Officer", "employed", "Shop", "5000", "", "",
         "", "", "", "", ""],
        ["V9", "E404", "", date(2008, 8, 15), "Officer", "employed", "Shop", "5000", "", "",
         "", "", "", "", ""],
        ["V10", "E1", "", date(2008, 8, 15), "Officer", "employed", "Shop", "50", "", "",
         "USD", "", "", "", ""]])
    found = _problems(_preview(session, "followups", bad_followups))
    assert {(2, "income", "-5000"), (3, "visited_on", "2008-01-15"),
            (4, "enrollment_ref", "E404"), (5, "usd_rate", "")} <= found, found
    assert count(session, "follow_up_visit") == 0


def test_a_changed_row_conflicts_instead_of_overwriting(session: Session,
                                                        tmp_path: Path) -> None:
    build_world(session, families=3)
    session.commit()
    courses, enrollments, _followups = _files(tmp_path)
    _import(session, "courses", courses)
    _import(session, "enrollments", enrollments)
    changed = write_csv(tmp_path / "changed.csv", ENROLLMENTS, [
        [*GOOD_ENROLLMENTS[0][:6], "2008-02-02", "2008-04-30", ""]])
    found = _problems(_preview(session, "enrollments", changed))
    assert (2, "enrolled_on", "2008-02-02") in found, found
