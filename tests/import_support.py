"""Helpers for the import tests: ledgers to import into, and small files written on the fly."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from imports import commit, validate
from ledger.db.tables import core_table
from tests.support.world import ACTOR, TODAY, build_world

FAMILY_HEADERS = ["family_ref", "head_name", "head_name_latin", "sex", "birth_year",
                  "household_size", "dependants", "village_code", "registered_on",
                  "informal_debt", "informal_rate_monthly_pct"]
LOAN_HEADERS = ["loan_ref", "family_ref", "product", "principal", "repayments", "disbursed_on"]
PAYMENT_HEADERS = ["payment_ref", "loan_ref", "paid_on", "amount"]


def empty_ledger(session: Session) -> list[str]:
    """Svay Rieng's villages, the riel fund with capital, the Foundation's product; returns
    the codes of three villages whose code is unique."""
    build_world(session, families=0)
    v = core_table("village")
    unique = (sa.select(v.c.code).group_by(v.c.code).having(sa.func.count() == 1)
              .order_by(v.c.code).limit(3))
    return [str(c) for c in session.execute(unique).scalars()]


def write_xlsx(path: Path, headers: Sequence[str], rows: Sequence[Sequence[Any]],
               title: str = "Sheet1") -> Path:
    """A real workbook with one sheet."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def write_csv(path: Path, headers: Sequence[str], rows: Sequence[Sequence[Any]],
              bom: bool = False) -> Path:
    """A UTF-8 CSV file (optionally with a byte-order mark)."""
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(headers)
        out.writerows(rows)
    return path


def families_rows(villages: list[str], count: int = 3) -> list[list[Any]]:
    """`count` valid family rows."""
    return [[f"F{n:03d}", f"សុខ {n}", f"Sok {n}", "F", 1970 + n % 20, 5, 2,
             villages[n % len(villages)], date(2007, 6, 1), 300_000 if n % 2 else None,
             10 if n % 2 else None] for n in range(1, count + 1)]


def count(session: Session, table: str) -> int:
    """Rows in a table."""
    return int(session.execute(sa.select(sa.func.count()).select_from(core_table(table)))
               .scalar_one())


def counts(session: Session) -> dict[str, int]:
    """Row counts of everything an import may write."""
    return {t: count(session, t) for t in ("family", "informal_debt", "loan", "journal_entry",
                                           "posting", "repayment", "loan_event",
                                           "import_batch")}


__all__ = ["FAMILY_HEADERS", "LOAN_HEADERS", "PAYMENT_HEADERS", "TODAY", "count", "counts",
           "empty_ledger", "families_rows", "write_csv", "write_xlsx"]


def import_ok(session: Session, kind: str, path: Path) -> None:
    """Validate and commit a file that must import cleanly (as of TODAY, by ACTOR)."""
    preview = validate(kind, path, session=session, actor=ACTOR, today=TODAY)
    assert preview.valid, [str(p) for p in preview.problems]
    assert commit(preview, session=session, actor=ACTOR).committed
