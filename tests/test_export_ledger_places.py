"""The auditor workbook of some places (a province, district, commune or village), read back:
each holds exactly its families' loans and those loans' whole journal entries, its checks hold,
and the workbooks of every village add up to the whole ledger's loan figures."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from exports.ledger_book import export_ledger
from ledger.db.tables import core_table
from ledger.services.errors import NotFound, ServiceError
from ledger.services.families import FamilyInput, register_family
from ledger.services.places import add_village, villages_under
from tests.support.world import ACTOR, TODAY
from tests.test_export_support import build_export_world


def _rows(book: openpyxl.Workbook, sheet: str) -> list[dict[str, object]]:
    values = list(book[sheet].iter_rows(values_only=True))
    return [dict(zip(values[0], r, strict=False)) for r in values[1:]]


def _tb(book: openpyxl.Workbook) -> dict[str, int]:
    return {str(r["Account"]): int(r["Debit"]) - int(r["Credit"])  # type: ignore[call-overload]
            for r in _rows(book, "Trial balance")}


def _village_codes(session: Session) -> dict[str, int]:
    """Each village code holding families, with its loan count."""
    vil, fam, ln = core_table("village"), core_table("family"), core_table("loan")
    return {str(c): int(n) for c, n in session.execute(
        sa.select(vil.c.code, sa.func.count(ln.c.id)).join(fam, fam.c.village_id == vil.c.id)
        .join(ln, ln.c.family_id == fam.c.id).group_by(vil.c.code))}


def test_the_villages_workbooks_add_up_to_the_whole(session: Session, tmp_path: Path) -> None:
    build_export_world(session)
    codes = _village_codes(session)
    assert len(codes) == 3
    whole = openpyxl.load_workbook(export_ledger(
        session, actor=ACTOR, as_of=TODAY, path=tmp_path / "whole.xlsx").path, data_only=True)
    whole_tb, whole_journal = _tb(whole), _rows(whole, "Journal")
    seen_loans: list[object] = []
    seen_postings: Counter[tuple[object, object]] = Counter()
    portfolio = cash = 0
    for code, loans in codes.items():
        result = export_ledger(session, actor=ACTOR, as_of=TODAY, places=[code],
                               path=tmp_path / f"{code}.xlsx")
        assert result.checks_hold and result.covers and result.covers.startswith(code)
        book = openpyxl.load_workbook(result.path, data_only=True)
        assert "Fund position" not in book.sheetnames and "Fund position" in whole.sheetnames
        register = _rows(book, "Loans")
        assert len(register) == loans
        assert {r["Village code"] for r in register} == {code}
        seen_loans += [r["Loan"] for r in register]
        journal = _rows(book, "Journal")
        # Whole entries only: every entry kept balances by itself.
        by_entry: Counter[object] = Counter()
        for r in journal:
            by_entry[r["Seq"]] += int(r["Debit"] or 0) - int(r["Credit"] or 0)  # type: ignore[call-overload]
        assert by_entry and set(by_entry.values()) == {0}
        assert {r["Loan"] for r in journal} <= {r["Loan"] for r in register}
        seen_postings.update((r["Seq"], r["Account"]) for r in journal)
        assert all(r["Loan"] in {x["Loan"] for x in register} for r in _rows(book, "Payments"))
        tb = _tb(book)
        portfolio += tb["RIEL.loans"]
        cash += tb["RIEL.cash"]
        summary = {r[0]: r[1] for r in book["Summary"].iter_rows(min_row=3, values_only=True)}
        assert str(summary["Covers"]).startswith(f"{code} ") and "(village)" in summary["Covers"]
        checks = list(book["Checks"].iter_rows(min_row=2, values_only=True))
        assert checks and all(row[4] is True for row in checks)
    assert sorted(seen_loans) == sorted(r["Loan"] for r in _rows(whole, "Loans"))  # type: ignore[type-var]
    assert portfolio == whole_tb["RIEL.loans"]
    # The loans' postings are the whole journal's postings with a loan; the fund's own entries
    # (the capital received) are in no village's workbook.
    with_loan = Counter((r["Seq"], r["Account"]) for r in whole_journal if r["Loan"])
    assert seen_postings == with_loan
    capital = [r for r in whole_journal if r["Kind"] == "capital"]
    assert capital and cash == whole_tb["RIEL.cash"] - sum(
        int(r["Debit"] or 0) for r in capital)  # type: ignore[call-overload]


def test_a_commune_holds_its_villages(session: Session, tmp_path: Path) -> None:
    build_export_world(session)
    codes = sorted(_village_codes(session))
    commune = codes[0][:6]
    assert all(c.startswith(commune) for c in codes)
    result = export_ledger(session, actor=ACTOR, as_of=TODAY, places=[commune],
                           path=tmp_path / "commune.xlsx")
    assert result.checks_hold and result.covers and "(commune)" in result.covers
    book = openpyxl.load_workbook(result.path)
    assert {r["Village code"] for r in _rows(book, "Loans")} == set(codes)
    district = villages_under(session, [commune[:4]])
    province = villages_under(session, [commune[:2]])
    assert set(codes) <= district.villages < province.villages
    assert province.label == "20 Svay Rieng (province)"


@pytest.mark.parametrize(("place", "message"), [
    ("99", "99 is not a province in this ledger"),
    ("2099", "2099 is not a district in this ledger"),
    ("20x", "'20x' is not a place code: 2 digits for a province, 4 for a district"),
    ("123", "'123' is not a place code"),
])
def test_an_unknown_place_is_refused_and_nothing_written(
        session: Session, tmp_path: Path, place: str, message: str) -> None:
    build_export_world(session)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "none.xlsx"
    with pytest.raises(ServiceError) as caught:
        export_ledger(session, actor=ACTOR, as_of=TODAY, places=["20", place], path=out)
    assert caught.value.field == "place" and message in caught.value.message
    assert isinstance(caught.value, NotFound) == message.endswith("in this ledger")
    assert list(out.parent.iterdir()) == []


def test_families_in_a_village_without_a_code_are_not_left_out_silently(
        session: Session, tmp_path: Path) -> None:
    world = build_export_world(session)
    commune = str(session.execute(sa.select(core_table("village").c.commune_code).where(
        core_table("village").c.id == world.villages[0])).scalar_one())
    village = add_village(session, actor=ACTOR, commune_code=commune, name_kh="ភូមិថ្មី",
                          name_en="Phum Thmei")
    assert villages_under(session, [commune[:2]]).villages  # no family there yet: no matter
    register_family(session, actor=ACTOR, today=TODAY, data=FamilyInput(
        ref="F-NEW", head_name="ស្រី", sex="F", household_size=3, village_id=village.id,
        registered_on=date(2008, 1, 1)))
    for place in (commune, commune[:4], commune[:2]):
        with pytest.raises(ServiceError, match="Phum Thmei") as caught:
            export_ledger(session, actor=ACTOR, as_of=TODAY, places=[place],
                          path=tmp_path / "x.xlsx")
        assert caught.value.field == "place"
    assert not (tmp_path / "x.xlsx").exists()


def test_command_line(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from ledger.db import make_engine
    from ledger.services.setup import set_fact
    from tui.cli import build_app

    engine = make_engine(sqlite_url)
    with Session(engine, expire_on_commit=False) as session:
        build_export_world(session)
        set_fact(session, "demo", "true")  # a demo ledger needs no login
        session.commit()
        first, second = sorted(_village_codes(session))[:2]
    engine.dispose()
    monkeypatch.setenv("FSF_TODAY", TODAY.isoformat())
    runner = CliRunner()
    out = tmp_path / "two.xlsx"
    done = runner.invoke(build_app(), ["--db", sqlite_url, "export", "ledger", "--out", str(out),
                                       "--place", first, "--place", second])
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith(f"Wrote {out} of {first} ") and "(village); " in done.stdout
    assert "checks hold" in done.stdout
    book = openpyxl.load_workbook(out)
    assert {r["Village code"] for r in _rows(book, "Loans")} == {first, second}
    bad = runner.invoke(build_app(), ["--db", sqlite_url, "export", "ledger", "--out",
                                      str(tmp_path / "bad.xlsx"), "--place", "2099"])
    assert bad.exit_code != 0
    assert "place: 2099 is not a district in this ledger" in bad.stderr
    assert not (tmp_path / "bad.xlsx").exists()


def test_csv_tables_of_a_village(session: Session, tmp_path: Path) -> None:
    import csv

    from exports.csv_export import export_csv

    build_export_world(session)
    codes = sorted(_village_codes(session))
    fam, vil = core_table("family"), core_table("village")
    by_village = {str(c): sorted(str(r) for r in refs) for c, refs in (
        (c, [r for r, v in session.execute(sa.select(fam.c.ref, vil.c.code).join(
            vil, vil.c.id == fam.c.village_id)) if v == c]) for c in codes)}

    def table(name: str, place: str, **kw: bool) -> list[dict[str, str]]:
        out = tmp_path / f"{name}-{place}.csv"
        count = export_csv(session, actor=ACTOR, table=name, path=out, as_of=TODAY,
                           places=[place], **kw)
        with out.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == count
        return rows

    book = openpyxl.load_workbook(export_ledger(
        session, actor=ACTOR, as_of=TODAY, places=[codes[0]], path=tmp_path / "v.xlsx").path)
    for code in codes:
        families = table("families", code, include_sensitive=True)
        # Written with a guard: a ref like "=F900" is "'=F900" in the file.
        assert sorted(r["Family"].lstrip("'") for r in families) == by_village[code]
        facts = {r["Family"].lstrip("'"): r["Sensitive facts"] for r in families
                 if r["Sensitive facts"]}
        assert facts == ({"=F900": "returnee: came back from Thailand"}
                         if "=F900" in by_village[code] else {})
        assert [r["Village code"] for r in table("villages", code)] == [code]
    postings = table("postings", codes[0])
    assert len(postings) == len(_rows(book, "Journal")) > 0
    assert {r["Loan"].lstrip("'") for r in table("loans", codes[0])} == {
        str(r["Loan"]) for r in _rows(book, "Loans")}


def test_a_place_keeps_its_loans_the_way_each_database_plans_best(session: Session) -> None:
    """SQLite drives an IN list of the place's loans through the loan index; PostgreSQL got
    the same IN last, after joining every repayment (13 s for one small province at 1M), and
    is given one array of the ids made first instead."""
    from dataclasses import replace

    from exports.context import ExportContext

    build_export_world(session)
    actor = replace(ACTOR, villages=frozenset(sorted(_village_codes(session))[:1]))
    ctx = ExportContext(session, actor, TODAY)
    rp = core_table("repayment")
    (condition,) = ctx.scoped(rp.c.loan_id)
    text = str(condition.compile(session.get_bind()))
    if session.get_bind().dialect.name == "postgresql":
        assert text.startswith("repayment.loan_id = ANY (array((SELECT loan.id")
    else:
        assert text.startswith("repayment.loan_id IN (SELECT loan.id")
    assert ExportContext(session, ACTOR, TODAY).scoped(rp.c.loan_id) == []
    kept = set(session.execute(sa.select(rp.c.id).where(condition)).scalars())
    ln, fam, vil = core_table("loan"), core_table("family"), core_table("village")
    theirs = set(session.execute(
        sa.select(rp.c.id).join(ln, ln.c.id == rp.c.loan_id).join(fam, fam.c.id == ln.c.family_id)
        .join(vil, vil.c.id == fam.c.village_id).where(vil.c.code.in_(actor.villages or ()))
    ).scalars())
    assert kept == theirs and 0 < len(kept) < session.execute(
        sa.select(sa.func.count()).select_from(rp)).scalar_one()
