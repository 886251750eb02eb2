"""`fsf import` and `fsf import template`: templates that import, stable JSON, exit codes."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from ledger.db import make_engine
from ledger.services.setup import set_fact
from tests.import_support import TODAY, counts, empty_ledger
from tui.cli import build_app


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(build_app(), list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("FSF_TODAY", TODAY.isoformat())
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        empty_ledger(session)
        set_fact(session, "demo", "true")  # acts as the demo administrator, no sign-in
        session.commit()
    engine.dispose()
    return sqlite_url


def test_template_fills_and_imports(db: str, tmp_path: Path) -> None:
    out = tmp_path / "families.xlsx"
    code, text, err = run("--db", db, "import", "template", "families", "--out", str(out))
    assert code == 0, err
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["families", "Instructions", "Lists"]
    sheet = book["families"]
    headers = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert headers[:4] == ["family_ref", "head_name", "head_name_latin", "sex"]
    rules = {str(dv.sqref): dv.formula1 for dv in sheet.data_validations.dataValidation}
    assert any("Lists!" in (f or "") for f in rules.values())  # villages from the ledger
    assert any(f == '"F,M,X"' for f in rules.values())
    codes = [c.value for c in book["Lists"]["A"][1:] if c.value]
    assert len(codes) > 10
    instructions = [r[0].value for r in book["Instructions"].iter_rows(min_row=2)]
    assert "registered_on" in instructions
    unique = [c for c in codes if codes.count(c) == 1]
    sheet.append(["F1", "សុខ", "Sok", "F", 1970, 5, 2, unique[0], "", "", "",
                  date(2008, 1, 5), 300000, 10])
    sheet.append(["F2", "ចាន់", "Chan", "M", 1965, 4, 1, unique[1], "", "", "",
                  "05/01/2008", "", ""])
    book.save(out)

    code, text, _ = run("--db", db, "import", "families", str(out), "--dry-run", "--json")
    doc = json.loads(text)
    assert code == 0 and doc == {"kind": "families", "file": str(out), "rows": 2,
                                 "valid": True, "committed": False, "created": 2,
                                 "unchanged": 0, "problems": []}
    code, text, _ = run("--db", db, "import", "families", str(out), "--json")
    assert code == 0 and json.loads(text)["committed"] is True
    code, text, _ = run("--db", db, "import", "families", str(out))
    assert code == 0 and "already in the ledger" in text and "nothing to import" in text
    engine = make_engine(db)
    with Session(engine) as session:
        assert counts(session)["family"] == 2 and counts(session)["import_batch"] == 1
    engine.dispose()


def test_a_bad_file_exits_2_with_every_problem_and_feedback(db: str, tmp_path: Path) -> None:
    path = tmp_path / "loans.csv"
    path.write_text("loan_ref,family_ref,product,principal,repayments,disbursed_on\n"
                    "L1,F404,FSF,150000,10,2008-03-15\nL2,F405,FSF,12.5,10,31/02/2008\n",
                    encoding="utf-8")
    code, text, _ = run("--db", db, "import", "loans", str(path), "--json")
    doc = json.loads(text)
    assert code == 2 and doc["valid"] is False and doc["committed"] is False
    assert {(p["row"], p["column"]) for p in doc["problems"]} == {
        (2, "family_ref"), (3, "principal"), (3, "disbursed_on")}
    feedback = tmp_path / "loans.feedback.xlsx"
    assert feedback.exists()
    rows = list(openpyxl.load_workbook(feedback).worksheets[0].values)
    assert rows[1][0] == "error" and "F404" in rows[1][1]
    code, text, _ = run("--db", db, "import", "loans", str(path))
    assert code == 2 and "row 3, column 'disbursed_on'" in text and "nothing was imported" in text
    code, _, err = run("--db", db, "import", "budgets", str(path))
    assert code == 2 and "not one of" in err


def test_a_national_file_counts_its_problems_with_separators(db: str, tmp_path: Path) -> None:
    # A month's national collection file runs to 100,000 rows; its counts read as riel do.
    path = tmp_path / "loans.csv"
    path.write_text("loan_ref,family_ref,product,principal,repayments,disbursed_on\n" + "".join(
        f"L{n},F404,FSF,150000,10,2008-03-15\n" for n in range(1, 1_101)), encoding="utf-8")
    code, text, _ = run("--db", db, "import", "loans", str(path))
    assert code == 2
    assert "1,100 problem(s) in 1,100 loans row(s)" in text
    assert "... and 1,050 more" in text
