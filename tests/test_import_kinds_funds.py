"""The `capital` and `grants` kinds: receipts and grants posted through the fund services,
idempotent, and every bad row reported with nothing written."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from imports import commit, validate
from imports.preview import ImportPreview, ImportResult
from ledger.accounts import AccountRole, account_for
from ledger.db.tables import core_table
from ledger.journal import balance
from tests.import_support import counts, write_xlsx
from tests.support.world import ACTOR, TODAY, build_world

CAPITAL = ["capital_ref", "contributor", "received_on", "amount", "foreign_amount",
           "foreign_currency", "rate", "note"]
GRANTS = ["grant_ref", "purpose", "family_ref", "paid_on", "amount", "note"]


def _run(session: Session, tmp_path: Path, kind: str, headers: list[str],
         rows: list[list[Any]]) -> tuple[ImportPreview, ImportResult]:
    path = write_xlsx(tmp_path / f"{kind}.xlsx", headers, rows, kind)
    preview = validate(kind, path, session=session, actor=ACTOR, today=TODAY)
    return preview, commit(preview, session=session, actor=ACTOR)


def _problems(preview: ImportPreview) -> set[tuple[int | None, str | None]]:
    return {(p.row, p.column) for p in preview.problems}


def _cash(session: Session, on: date | None = None) -> int:
    account = account_for(session, AccountRole.CASH, fund_id=1)
    assert account.id is not None
    return balance(session, account.id, as_of=on).minor


def test_capital_with_a_foreign_amount(session: Session, tmp_path: Path) -> None:
    build_world(session, families=0)  # 10,000,000 riel from IOM as C1
    session.commit()
    good = [["C2", "IOM", date(2007, 7, 2), "16,320,000", "4,000.00", "USD", "4080",
             "Second tranche"], ["C3", "Province", date(2007, 3, 5), 2_000_000, None, None,
                                 None, None]]
    preview, result = _run(session, tmp_path, "capital", CAPITAL, good)
    assert preview.valid and result.committed and result.created == 2
    assert _cash(session) == 28_320_000
    cr = core_table("capital_receipt")
    stored = session.execute(sa.select(cr.c.foreign_amount_minor, cr.c.foreign_currency)
                             .where(cr.c.ref == "C2")).one()
    assert tuple(stored) == (400_000, "USD")
    before = counts(session)
    preview, result = _run(session, tmp_path, "capital", CAPITAL, good)
    assert preview.unchanged == 2 and not result.committed and counts(session) == before

    bad = [["C4", "IOM", date(2008, 1, 7), 8_020_000, "2,000.00", "USD", "4000", None],
           ["C5", "IOM", date(2008, 1, 7), 8_020_000, "2,000.00", None, None, None],
           ["C2", "IOM", date(2007, 7, 2), 16_000_000, "4,000.00", "USD", "4000", None],
           ["C6", "IOM", date(2030, 1, 1), 1_000, None, None, None, None],
           ["C7", "IOM", date(2008, 1, 7), 1_000, None, None, None, None],
           ["C7", "IOM", date(2008, 1, 8), 1_000, None, None, None, None]]
    preview, result = _run(session, tmp_path, "capital", CAPITAL, bad)
    assert {(2, "amount"), (3, "foreign_currency"), (4, "amount"), (5, "received_on"),
            (7, "capital_ref")} <= _problems(preview)
    assert not result.committed and counts(session) == before


def test_grants_need_the_family_and_the_cash(session: Session, tmp_path: Path) -> None:
    build_world(session, families=2)
    session.commit()
    before = counts(session)
    bad = [["G1", "house-building", "F404", date(2008, 5, 1), 1_800_000, None],
           ["G2", "house-building", "F001", date(2008, 5, 1), 9_000_000, None],
           ["G3", "house-building", "F001", date(2008, 5, 2), 1_500_000, None],  # cash gone
           ["G4", "holiday", "F001", date(2008, 5, 1), 1_000, None],
           ["G5", "bicycle", "F002", date(2008, 5, 1), 100_000, None],
           ["G5", "bicycle", "F002", date(2008, 5, 1), 100_000, None]]
    preview, result = _run(session, tmp_path, "grants", GRANTS, bad)
    assert {(2, "family_ref"), (4, "amount"), (5, "purpose"), (7, "grant_ref")} <= _problems(
        preview)
    assert not result.committed and counts(session) == before

    good = [["G1", "house-building", "F001", date(2008, 5, 1), 1_800_000, "Roof"],
            ["G2", "school-support", None, date(2008, 9, 1), 110_000, None]]
    preview, result = _run(session, tmp_path, "grants", GRANTS, good)
    assert preview.valid and result.committed and result.created == 2
    assert _cash(session) == 10_000_000 - 1_910_000
    g = core_table("grant_payment")
    assert session.execute(sa.select(sa.func.count()).select_from(g).where(
        g.c.family_id.is_not(None))).scalar_one() == 1
    before = counts(session)
    preview, result = _run(session, tmp_path, "grants", GRANTS, good)
    assert preview.unchanged == 2 and counts(session) == before
