"""The repayments import read a column at a time gives what the row-by-row path gives:
the same outcomes, problems and plan, the same typed rows from kept columns, the same room
from the SQLite query as from the general one, and the same objects from `made_many`."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from imports import validate
from imports.api import columns_of
from imports.columns import match_headers, parse_rows, parse_table
from imports.kinds import repayments
from imports.preview import ImportPreview, RowOutcome, made_many
from imports.reader import Sheet, read_table
from ledger.db.tables import LoanProduct
from ledger.money import Money
from ledger.services import import_checks
from ledger.services.bulk import NewRepayment
from ledger.services.funds import open_fund
from ledger.services.products import FOUNDATION_PRODUCT, create_product
from tests.import_support import (
    FAMILY_HEADERS,
    LOAN_HEADERS,
    PAYMENT_HEADERS,
    TODAY,
    empty_ledger,
    families_rows,
    import_ok,
    write_csv,
    write_xlsx,
)
from tests.support.world import ACTOR

HEADERS = [*PAYMENT_HEADERS, "currency", "received_by", "note"]



@pytest.fixture
def ledger(session: Session, tmp_path: Path) -> Session:
    """Five riel loans (L5 fully repaid, so closed), one dollar loan, and standing payments:
    S1 on L1 dated after the back-dated payment the files bring."""
    villages = empty_ledger(session)
    open_fund(session, actor=ACTOR, code="USDF", name="Dollar fund", currency="USD")
    create_product(session, actor=ACTOR, product=LoanProduct(**{
        **FOUNDATION_PRODUCT.model_dump(exclude={"id"}), "code": "USD", "name": "Dollar loan",
        "currency": "USD", "min_principal_minor": 10_000, "max_principal_minor": 100_000}))
    import_ok(session, "families", write_xlsx(tmp_path / "f.xlsx", FAMILY_HEADERS,
                                            families_rows(villages, 6)))
    import_ok(session, "capital", write_csv(tmp_path / "c.csv", [
        "capital_ref", "fund", "contributor", "received_on", "amount", "currency"], [
        ["CUSD1", "USDF", "Donor", "2008-01-02", "5,000", "USD"]]))
    import_ok(session, "loans", write_csv(tmp_path / "l.csv", [*LOAN_HEADERS, "currency"], [
        *([f"L{n}", f"F00{n}", "FSF", 150000, 10, "2008-03-15", "KHR"] for n in range(1, 6)),
        ["L6", "F006", "USD", 500, 10, "2008-03-15", "USD"]]))
    import_ok(session, "repayments", write_csv(tmp_path / "p0.csv", HEADERS, [
        ["S1", "L1", "2008-06-15", "40,000", "KHR", "", ""],
        ["S5", "L5", "2008-04-15", "151,500", "KHR", "", ""]]))
    return session


def _both(session: Session, path: Path, monkeypatch: pytest.MonkeyPatch
          ) -> tuple[ImportPreview, ImportPreview, int]:
    """The preview through the column checker and through `check` alone, and how many times
    the column checker handed the file to `check`."""
    calls: list[int] = []
    real = repayments.check

    def counted(*args: Any) -> Any:
        calls.append(1)
        return real(*args)

    with monkeypatch.context() as patch:
        patch.setattr(repayments, "check", counted)
        fast = validate("repayments", path, session=session, actor=ACTOR, today=TODAY)
    with monkeypatch.context() as patch:
        patch.delattr(repayments, "check_table")
        slow = validate("repayments", path, session=session, actor=ACTOR, today=TODAY)
    return fast, slow, len(calls)


def _same(fast: ImportPreview, slow: ImportPreview) -> None:
    assert fast.rows == slow.rows
    assert fast.problems == slow.problems
    assert fast.plan == slow.plan


def test_a_file_the_columns_decide_alone(ledger: Session, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # Within room; two on one loan; over the payoff (replayed, refused); back-dated before a
    # standing payment (replayed out of order); dollars on the dollar loan; blank optional
    # cells; a workbook's whole-number cells.
    rows: list[list[Any]] = [
        ["N1", "L2", "2008-05-15", 30000, "KHR", "Treasurer", "first"],
        ["N2", "L3", "2008-05-15", "200,000", "KHR", None, None],
        ["N3", "L1", "2008-04-15", "20,000", "", "", ""],
        ["N4", "L6", "2008-05-01", "12.50", "USD", "Chea", ""],
        ["N5", "L4", "2008-05-15", 1000, None, None, "x"],
        ["N6", "L4", "2008-05-20", 2000.0, "khr", None, None],
        ["N7", "L1", "2008-07-15", "150,000", "KHR", None, None],
    ]
    for path in (write_xlsx(tmp_path / "a.xlsx", HEADERS, rows),
                 write_csv(tmp_path / "a.csv", HEADERS, rows)):
        fast, slow, fallbacks = _both(ledger, path, monkeypatch)
        assert fallbacks == 0
        _same(fast, slow)
        assert {r.status for r in fast.rows} == {"new", "error"}
        assert [p.ref for p in fast.plan] == ["N1", "N3", "N4", "N5", "N6"]
    # Every row new: the outcomes are made in bulk.
    path = write_xlsx(tmp_path / "b.xlsx", HEADERS, [rows[0], rows[3], rows[4]])
    fast, slow, fallbacks = _both(ledger, path, monkeypatch)
    assert fallbacks == 0 and fast.valid
    _same(fast, slow)


@pytest.mark.parametrize("bad", [
    ["N9", "L2", "2008-05-15", "", "KHR", "", ""],  # blank required cell
    ["N9", "L2", "2008-05-15", "1.5", "KHR", "", ""],  # a bad cell
    ["N1", "L2", "2008-05-16", "100", "KHR", "", ""],  # a duplicate ref
    ["N9", "L99", "2008-05-15", "100", "KHR", "", ""],  # an unknown loan
    ["N9", "L5", "2008-05-15", "100", "KHR", "", ""],  # a closed loan
    ["N9", "L2", "2008-05-15", "100", "USD", "", ""],  # the loan's other currency
    ["N9", "L2", "2008-03-01", "100", "KHR", "", ""],  # before the loan was paid out
    ["N9", "L2", "2031-01-01", "100", "KHR", "", ""],  # in the future
    ["N9", "L2", "2008-05-15", "0", "KHR", "", ""],  # zero
    ["S1", "L1", "2008-06-15", "40,000", "KHR", "", ""],  # already in the ledger
    ["S1", "L1", "2008-06-15", "41,000", "KHR", "", ""],  # in the ledger, otherwise
])
def test_other_files_decide_as_row_by_row(ledger: Session, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch,
                                          bad: list[Any]) -> None:
    rows = [["N1", "L2", "2008-05-15", "30,000", "KHR", "", ""], bad,
            ["N2", "L3", "2008-05-15", "200,000", "KHR", "", ""]]
    fast, slow, fallbacks = _both(ledger, write_xlsx(tmp_path / "c.xlsx", HEADERS, rows),
                                  monkeypatch)
    assert fallbacks == 1
    _same(fast, slow)


def test_kept_columns_type_as_rows_do(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "d.xlsx", HEADERS, [
        ["N1", "L1", "2008-05-15", 100, "KHR", " ", None],
        ["", "L2", "x", -5, "EUR", "x" * 100, "  n  "],
        ["N3", "L1", 39600.0, "1,000", " usd ", None, ""]])
    sheet = read_table(path, "repayments")
    assert sheet.columns() is not None
    mapping, _, _ = match_headers(sheet, columns_of("repayments"), "repayments")
    as_rows = Sheet(sheet.name, sheet.headers, sheet.rows, sheet.problems)
    assert as_rows.columns() is None
    table = parse_table(sheet, mapping)
    assert table.rows() == parse_rows(as_rows, mapping)
    assert [table.row(i) for i in range(len(table.numbers))] == parse_rows(as_rows, mapping)
    assert table.problems == [p for r in parse_rows(as_rows, mapping) for p in r.problems]


def test_room_through_the_driver_is_the_general_query(ledger: Session) -> None:
    ids = list(range(0, 9))
    driver = import_checks.principal_room(ledger, ids)
    assert driver == import_checks._principal_room(ledger, ids)
    assert (driver[1], driver[2]) == (110_000, 150_000) and len(driver) == 6


def test_made_many_makes_what_the_constructor_makes() -> None:
    riel = Money.from_minor(100, "KHR")
    columns: list[list[Any]] = [[1, 2], [date(2008, 1, 1), date(2008, 1, 2)], [riel, riel],
                                ["A", None], [None, "x"], ["", "n"]]
    made = made_many(NewRepayment, *columns)
    assert made == [NewRepayment(*values) for values in zip(*columns, strict=True)]
    assert made_many(RowOutcome, [2], ["R"], ["new"], [""]) == [RowOutcome(2, "R", "new")]
    assert made_many(RowOutcome, [2], ["R"], ["new"]) == [RowOutcome(2, "R", "new")]
    with pytest.raises(ValueError):
        made_many(RowOutcome, [2, 3], ["R"], ["new"], [""])
