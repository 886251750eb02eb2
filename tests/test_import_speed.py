"""The import's fast paths give exactly what the slow ones gave: columns typed once per
distinct value, blank cells found a column at a time, loans whose payments stay below their
principal left unreplayed, stored refs looked up in bulk, the cycle collector restored."""

from __future__ import annotations

import gc
import math
import random
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from imports import validate
from imports.cells import shown
from imports.columns import Column, ParsedRow, parse_rows
from imports.kinds import repayments
from imports.problems import CellError, Problem
from imports.reader import Sheet, read_table
from ledger.services.bulk import replay_inputs
from ledger.services.import_checks import principal_room, repayments_by_ref
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


def _two_loans(session: Session, tmp_path: Path) -> None:
    villages = empty_ledger(session)
    import_ok(session, "families", write_xlsx(tmp_path / "f.xlsx", FAMILY_HEADERS,
                                            families_rows(villages, 2)))
    import_ok(session, "loans", write_csv(tmp_path / "l.csv", LOAN_HEADERS, [
        ["L1", "F001", "FSF", 150000, 10, "2008-03-15"],
        ["L2", "F002", "FSF", 150000, 10, "2008-03-15"]]))
    import_ok(session, "repayments", write_csv(tmp_path / "p0.csv", PAYMENT_HEADERS, [
        ["S1", "L1", "2008-04-15", "40,000"], ["S2", "L2", "2008-04-15", "100,000"]]))


def _reference_parse(sheet: Sheet, mapping: dict[int, Column]) -> list[ParsedRow]:
    """The parser as it was, cell by cell: the fast one must agree with it exactly."""
    by_name = {c.name: (i, c) for i, c in mapping.items()}
    out = []
    for number, values in sheet.rows:
        row = ParsedRow(number, {}, {})
        for index, column in mapping.items():
            row.raw[column.name] = values[index] if index < len(values) else None
        currency = "KHR"
        if "currency" in by_name and row.raw.get("currency") is not None:
            try:
                currency = by_name["currency"][1].parse(row.raw["currency"])
            except CellError:
                currency = "KHR"
        for name, (_index, column) in by_name.items():
            value = row.raw.get(name)
            if value is None:
                if column.required:
                    row.ok = False
                    row.problems.append(Problem(number, name, "", f"{name} is required"))
                continue
            try:
                row.values[name] = column.parse(value, currency)
            except CellError as exc:
                row.ok = False
                row.problems.append(Problem(number, name, shown(value), str(exc)))
        out.append(row)
    return out


def _shape(rows: list[ParsedRow]) -> list[tuple[Any, ...]]:
    # str() of every value too: Decimal("-0") and Decimal("0") are equal but not alike.
    return [(r.number, r.ok, r.problems, r.raw, sorted((k, str(v), v.__class__)
                                                       for k, v in r.values.items()))
            for r in rows]


def test_columns_typed_at_once_agree_with_cell_by_cell_parsing() -> None:
    columns = [Column("ref", required=True), Column("paid_on", "date", required=True),
               Column("amount", "amount", required=True), Column("rate", "rate"),
               Column("count", "whole"), Column("currency", "currency", choices=("KHR", "USD"))]
    pool: list[Any] = [None, "", "x", " A1 ", "KHR", "usd", "EUR", "2008-03-15", "31/02/2008",
                       0.0, -0.0, 0, False, True, 1, 1.0, 1.5, 2.25, -3.0, math.nan, math.inf,
                       150000.0, "150,000", "12.345", "1.5 %", date(2008, 3, 15),
                       datetime(2008, 3, 15), datetime(2008, 3, 15, 10, 30), "០១២", 10**16]
    rng = random.Random(7)
    texts = [v for v in pool if isinstance(v, str)]  # one class a column: its own fast path
    for cells_ in (pool, texts):
        grid = tuple((n, tuple(rng.choice(cells_) for _ in columns)) for n in range(2, 1502))
        sheet = Sheet("s", tuple(c.name for c in columns), grid)
        for mapping in (dict(enumerate(columns)), {5 - n: c for n, c in enumerate(columns)},
                        {4: columns[2], 1: columns[0]}):
            assert (_shape(parse_rows(sheet, mapping))
                    == _shape(_reference_parse(sheet, mapping)))


def test_each_distinct_cell_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    real = Column.parse

    def counted(self: Column, value: Any, currency: str = "KHR") -> Any:
        calls.append(value)
        return real(self, value, currency)

    monkeypatch.setattr(Column, "parse", counted)
    rows = tuple((n, ("L1" if n % 2 else "L2", 100.0, "KHR")) for n in range(2, 2002))
    sheet = Sheet("s", ("loan_ref", "amount", "currency"), rows)
    mapping = {0: Column("loan_ref"), 1: Column("amount", "amount"),
               2: Column("currency", "currency", choices=("KHR", "USD"))}
    parsed = parse_rows(sheet, mapping)
    assert [r.values["loan_ref"] for r in parsed[:2]] == ["L2", "L1"]
    assert all(r.values["amount"].minor == 100 for r in parsed)
    # one amount, one currency (read once for the rows' currency, once as a cell); a column
    # of text cells is judged at once, without a parse a cell
    assert sorted(map(str, calls)) == ["100.0", "KHR", "KHR"]


def test_blank_cells_and_rows_read_as_before(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "b.xlsx", ["a", "b", "c"], [
        ["x", "  ", 1], [None, None, None], ["", " \t", None], ["y", None, 2.5]])
    sheet = read_table(path, "b")
    assert sheet.rows == ((2, ("x", None, 1.0)), (5, ("y", None, 2.5)))
    ragged = tmp_path / "r.csv"
    ragged.write_text("a,b,c\nx\n,,\n1,2,3,4\n ,z\n", encoding="utf-8")
    assert read_table(ragged, "r").rows == ((2, ("x", None, None)), (4, ("1", "2", "3")),
                                            (5, (None, "z", None)))


def test_principal_room_is_what_the_replay_inputs_give(session: Session,
                                                       tmp_path: Path) -> None:
    _two_loans(session, tmp_path)
    room = principal_room(session, [1, 2, 99])
    inputs = replay_inputs(session, [1, 2])
    for loan_id in (1, 2):
        dues, stored = inputs[loan_id]
        assert room[loan_id] == sum(d.principal for d in dues) - sum(p.amount for p in stored)
    assert room == {1: 110_000, 2: 50_000}
    assert repayments_by_ref(session, ["S2", "nope"]) == {"S2": (2, date(2008, 4, 15),
                                                                 100_000, "KHR")}


def test_loans_below_their_room_and_replayed_ones_decide_alike(
        session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _two_loans(session, tmp_path)
    replayed: list[list[int]] = []
    real = repayments.replay_inputs

    def spy(s: Session, loan_ids: list[int]) -> Any:
        replayed.append(sorted(loan_ids))
        return real(s, loan_ids)

    monkeypatch.setattr(repayments, "replay_inputs", spy)
    # L1 takes 30,000 more (room 110,000): no replay. L2's 60,000 passes its room of 50,000:
    # replayed, and more than its payoff, so refused.
    path = write_csv(tmp_path / "p.csv", PAYMENT_HEADERS, [
        ["N1", "L1", "2008-05-15", "30,000"], ["N2", "L2", "2008-05-15", "60,000"],
        ["S1", "L1", "2008-04-15", "40,000"]])
    preview = validate("repayments", path, session=session, actor=ACTOR, today=TODAY)
    assert replayed == [[2]]
    assert [(r.row, r.status) for r in preview.rows] == [(2, "new"), (3, "error"),
                                                         (4, "unchanged")]
    (problem,) = preview.problems
    assert (problem.row, problem.column) == (3, "amount") and "payoff" in problem.message
    # Below L2's payoff but above its room: replayed, accepted, and planned in file order.
    path = write_csv(tmp_path / "p2.csv", PAYMENT_HEADERS, [
        ["N2", "L2", "2008-05-15", "50,000"], ["N1", "L1", "2008-05-15", "30,000"]])
    preview = validate("repayments", path, session=session, actor=ACTOR, today=TODAY)
    assert preview.valid and [p.ref for p in preview.plan] == ["N2", "N1"]
    assert [(p.loan_id, p.amount.minor) for p in preview.plan] == [(2, 50_000), (1, 30_000)]


def test_the_cycle_collector_is_restored(session: Session, tmp_path: Path) -> None:
    _two_loans(session, tmp_path)
    path = write_csv(tmp_path / "p.csv", PAYMENT_HEADERS, [["N1", "L1", "2008-05-15", "1"]])
    assert gc.isenabled()
    validate("repayments", path, session=session, actor=ACTOR, today=TODAY)
    assert gc.isenabled()
    gc.disable()
    try:
        validate("repayments", path, session=session, actor=ACTOR, today=TODAY)
        assert not gc.isenabled()
    finally:
        gc.enable()
