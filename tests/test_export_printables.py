"""The collection sheet and the family statement read back and compared with their reports;
print setup; treasurers limited to their villages."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from sqlalchemy.orm import Session

from exports.printables import export_collection_sheet, export_family_statement
from ledger.actor import Actor, PermissionDenied, Role
from ledger.db.tables import Village
from ledger.reports.collection import collection_sheet
from ledger.reports.family import family_statement
from ledger.services.errors import ServiceError
from tests.support.world import ACTOR, TODAY
from tests.test_export_support import HOSTILE, build_export_world


def test_collection_sheet_equals_the_report(session: Session, tmp_path: Path) -> None:
    world = build_export_world(session)
    village = session.get(Village, world.villages[0])
    assert village is not None and village.code
    out = tmp_path / "collect.xlsx"
    done = export_collection_sheet(session, actor=ACTOR, village_code=village.code,
                                   month="2009-06", path=out, as_of=TODAY)
    report = collection_sheet(session, actor=ACTOR, village_code=village.code, month="2009-06")
    assert done.rows == len(report.rows) > 0
    ws = openpyxl.load_workbook(out)["Collection sheet"]
    values = list(ws.iter_rows(values_only=True))
    header_at = next(i for i, r in enumerate(values) if r and r[0] == "Family")
    header = values[header_at]
    assert "Collected" in header and "Loan" in header
    body = values[header_at + 1: header_at + 1 + len(report.rows)]
    for row, rep in zip(body, report.rows, strict=True):
        got = dict(zip(header, row, strict=False))
        assert (got["Family"], got["Loan"]) == (rep.family_ref, rep.loan_ref)
        assert got["To collect"] == rep.to_collect.minor
        assert got["Head of family"] == rep.family_name and got["Collected"] is None
    names = {r[1] for r in body}
    assert HOSTILE[0] in names  # stored as text, shown as typed
    assert all(c.data_type != "f" for r in ws.iter_rows(max_row=header_at + len(body) + 1)
               for c in r)
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    # One page wide (fitToWidth defaults to 1 when absent), as many pages tall as needed.
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows and "&P" in ws.oddHeader.right.text
    assert village.name_en in ws.oddHeader.left.text
    assert any(r and r[0] == "Treasurer" for r in values)
    assert any(r and r[0] == "Officer" for r in values)
    treasurer = Actor("thida", frozenset({Role.TREASURER}), villages=frozenset({"nowhere"}))
    with pytest.raises(ServiceError):
        export_collection_sheet(session, actor=treasurer, village_code=village.code,
                                month="2009-06", path=out, as_of=TODAY)
    auditor = Actor("audrey", frozenset({Role.AUDITOR}))
    with pytest.raises(PermissionDenied):
        export_collection_sheet(session, actor=auditor, village_code=village.code,
                                month="2009-06", path=out, as_of=TODAY)


def test_family_statement_equals_the_report(session: Session, tmp_path: Path) -> None:
    world = build_export_world(session)
    out = tmp_path / "family.xlsx"
    export_family_statement(session, actor=ACTOR, family_ref="F001", path=out, as_of=TODAY)
    report = family_statement(session, actor=ACTOR, family_id=world.families[0], as_of=TODAY)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Loans", "Installments", "Money lines"]
    lines = [r for r in book["Money lines"].iter_rows(min_row=3, values_only=True)]
    expected = [m for ls in report.loans for m in ls.lines]
    assert [(r[2], r[4], r[8]) for r in lines] == [
        (m.seq, m.cash.minor, m.balance.minor) for m in expected]
    loans = list(book["Loans"].iter_rows(min_row=3, values_only=True))
    assert [(r[0], r[4]) for r in loans] == [
        (ls.status.ref, ls.status.outstanding_principal.minor) for ls in report.loans]
    installments = list(book["Installments"].iter_rows(min_row=3, values_only=True))
    assert len(installments) == sum(len(ls.installments) for ls in report.loans)
