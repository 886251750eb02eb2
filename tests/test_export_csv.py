"""`fsf export csv` and `fsf export ledger` from the command line: UTF-8 tables with guarded
text, pseudonymised copies without names, sensitive facts only for roles that may see them."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from exports.cells import Amount, csv_text, is_dangerous
from exports.csv_export import CSV_TABLES, export_csv
from ledger.actor import Actor, PermissionDenied, Role
from ledger.db import make_engine
from ledger.db.tables import core_table
from ledger.services.errors import ServiceError
from tests.support.world import ACTOR, TODAY
from tests.test_export_support import HOSTILE, build_export_world
from tui.cli import build_app

AUDITOR = Actor("audrey", frozenset({Role.AUDITOR}))
TREASURER = Actor("thida", frozenset({Role.TREASURER}), villages=frozenset({"x"}))


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def ledger_url(sqlite_url: str) -> str:
    engine = make_engine(sqlite_url)
    with Session(engine, expire_on_commit=False) as session:
        build_export_world(session)
    engine.dispose()
    return sqlite_url


def test_guard_rule() -> None:
    for text in HOSTILE:
        assert is_dangerous(text) and csv_text(text) == "'" + text
    assert csv_text("សុខ") == "សុខ" and csv_text("a=b") == "a=b"
    assert Amount(12345, "USD").value == __import__("decimal").Decimal("123.45")


def test_every_table_exports_and_guards_text(session: Session, tmp_path: Path) -> None:
    build_export_world(session)
    for table in CSV_TABLES:
        out = tmp_path / f"{table}.csv"
        count = export_csv(session, actor=AUDITOR, table=table, path=out, as_of=TODAY)
        rows = _read(out)
        assert len(rows) == count
        for row in rows:
            for value in row.values():
                assert not is_dangerous(value), (table, value)
    families = _read(tmp_path / "families.csv")
    assert {f"'{HOSTILE[0]}", f"'{HOSTILE[1]}", "សុខ 0"} <= {r["Head of family"] for r in families}
    assert "Sensitive facts" not in families[0]
    postings = _read(tmp_path / "postings.csv")
    assert len(postings) == session.execute(
        sa.select(sa.func.count()).select_from(core_table("posting"))).scalar_one()
    assert sum(int(r["Debit"] or 0) for r in postings) == sum(int(r["Credit"] or 0)
                                                            for r in postings)
    payments = _read(tmp_path / "payments.csv")
    assert "'=cmd|' /C calc'!A0" in {r["Note"] for r in payments}


def test_sensitive_facts_only_when_allowed(session: Session, tmp_path: Path) -> None:
    build_export_world(session)
    out = tmp_path / "f.csv"
    with pytest.raises(PermissionDenied):
        export_csv(session, actor=AUDITOR, table="families", path=out, as_of=TODAY,
                   include_sensitive=True)
    with pytest.raises(ServiceError):
        export_csv(session, actor=ACTOR, table="families", path=out, as_of=TODAY,
                   include_sensitive=True, pseudonymise=True)
    with pytest.raises(PermissionDenied):
        export_csv(session, actor=TREASURER, table="loans", path=out, as_of=TODAY)
    export_csv(session, actor=ACTOR, table="families", path=out, as_of=TODAY,
               include_sensitive=True)
    facts = [r["Sensitive facts"] for r in _read(out)]
    assert "returnee: came back from Thailand" in facts


def test_pseudonymised_csv_replaces_names(session: Session, tmp_path: Path) -> None:
    build_export_world(session)
    out = tmp_path / "f.csv"
    export_csv(session, actor=AUDITOR, table="families", path=out, as_of=TODAY,
               pseudonymise=True)
    text = out.read_text(encoding="utf-8")
    for secret in ("សុខ", "Sok", "HYPERLINK", "ID-SECRET", "012 345"):
        assert secret not in text
    codes = [r["Family"] for r in _read(out)]
    assert all(c.startswith("F-") and len(c) == 12 for c in codes) and len(set(codes)) == 5


def test_command_line(ledger_url: str, tmp_path: Path,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    from ledger.services.setup import set_fact

    engine = make_engine(ledger_url)
    with Session(engine) as session:
        set_fact(session, "demo", "true")
        session.commit()
    engine.dispose()
    monkeypatch.setenv("FSF_TODAY", TODAY.isoformat())
    runner = CliRunner()
    out = tmp_path / "book.xlsx"
    result = runner.invoke(build_app(), ["--db", ledger_url, "export", "ledger", "--as-of",
                                         "2009-06-30", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "checks hold" in result.stdout
    import openpyxl

    summary = openpyxl.load_workbook(out)["Summary"]
    assert "DEMO" in str(summary["A1"].value)
    result = runner.invoke(build_app(), ["--db", ledger_url, "export", "csv", "--table",
                                         "journal", "--out", str(tmp_path / "j.csv"),
                                         "--pseudonymise"])
    assert result.exit_code == 0, result.output
    assert "rows of journal" in result.stdout
    bad = runner.invoke(build_app(), ["--db", ledger_url, "export", "csv", "--table", "x",
                                      "--out", str(tmp_path / "x.csv")])
    assert bad.exit_code == 2 and "--table" in bad.stderr
