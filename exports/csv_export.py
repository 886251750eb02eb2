"""`fsf export csv`: one table as UTF-8 CSV, streamed, every text cell guarded so a spreadsheet
never runs it (a leading apostrophe before `=`, `+`, `-`, `@`, tab or carriage return).

Amounts are plain text with exactly their currency's digits (`150000`, `12.50`), dates ISO.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from exports.cells import Amount, Cell, Formula, amount_text, csv_text
from exports.context import Dataset, ExportContext, narrowed
from exports.journal_data import ENTRIES, JOURNAL
from exports.loan_data import INSTALLMENTS, LOANS, PAYMENTS
from exports.people_data import ACCOUNTS, VILLAGES, families_dataset
from exports.whole_file import written_whole
from ledger.actor import Actor, Permission
from ledger.privacy import Pseudonyms, pseudonym_secret, sensitive_allowed
from ledger.services.errors import ServiceError

__all__ = ["CSV_TABLES", "csv_cell", "export_csv"]

# Table name -> the dataset it writes (families depends on whether sensitive facts go out).
CSV_TABLES: dict[str, Callable[[ExportContext], Dataset]] = {
    "families": families_dataset,
    "loans": lambda _ctx: LOANS,
    "installments": lambda _ctx: INSTALLMENTS,
    "payments": lambda _ctx: PAYMENTS,
    "journal": lambda _ctx: ENTRIES,
    "postings": lambda _ctx: JOURNAL,
    "accounts": lambda _ctx: ACCOUNTS,
    "villages": lambda _ctx: VILLAGES,
}


def csv_cell(value: Cell) -> str:
    """The text of one CSV field."""
    if value is None:
        return ""
    if isinstance(value, str):
        return csv_text(value)
    if isinstance(value, Amount):
        return amount_text(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, Formula):  # pragma: no cover - tables never hold formulas
        raise TypeError("a CSV table holds values, not formulas")
    raise TypeError(f"cannot write {type(value).__name__} to CSV")


def export_csv(session: Session, *, actor: Actor, table: str, path: Path | str, as_of: date,
               pseudonymise: bool = False, include_sensitive: bool = False,
               places: Sequence[str] = (),
               progress: Callable[[int], None] | None = None) -> int:
    """Write one table as CSV to `path`; returns the number of data rows written. `places`
    narrows it to the villages under them, as the auditor workbook's `places` does."""
    actor.require(Permission.EXPORT)
    make = CSV_TABLES.get(table)
    if make is None:
        raise ServiceError(f"no table {table!r}; tables: {', '.join(CSV_TABLES)}", field="table")
    sensitive = sensitive_allowed(actor=actor, pseudonymised=pseudonymise,
                                  requested=include_sensitive)
    actor, label = narrowed(session, actor, places)
    pseudonyms = Pseudonyms(pseudonym_secret(session)) if pseudonymise else None
    ctx = ExportContext(session, actor, as_of, pseudonyms, include_sensitive=sensitive,
                        place=label)
    columns, rows = make(ctx).stream(ctx)
    count = 0
    with written_whole(path) as partial, partial.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([csv_text(c.header) for c in columns])
        for row in rows:
            writer.writerow([csv_cell(v) for v in row])
            count += 1
            if progress is not None and count % 5_000 == 0:
                progress(count)
    if progress is not None:
        progress(count)
    return count
