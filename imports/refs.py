"""Refs of imported rows whose table keeps none, and the error a committer raises for a row."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.db.tables import ImportRef, core_table
from ledger.services.errors import ServiceError

__all__ = ["RowRefused", "known_refs", "remember_ref"]


class RowRefused(ServiceError):
    """A service refused one row while committing; the whole commit is rolled back."""

    def __init__(self, row: int | None, column: str, value: str, message: str) -> None:
        self.row, self.column, self.value = row, column, value
        super().__init__(message, field=column)


def known_refs(session: Session, kind: str, refs: Iterable[str]) -> dict[str, int]:
    """The ledger ids that refs of `kind` were imported as."""
    t = core_table("import_ref")
    items = sorted(set(refs))
    out: dict[str, int] = {}
    for start in range(0, len(items), 900):
        for ref, target in session.execute(sa.select(t.c.ref, t.c.target_id).where(
                t.c.kind == kind, t.c.ref.in_(items[start:start + 900]))):
            out[str(ref)] = int(target)
    return out


def remember_ref(session: Session, *, kind: str, ref: str, target_id: int,
                 batch_id: int) -> None:
    """Record that `ref` of `kind` became the ledger row `target_id`."""
    session.add(ImportRef(kind=kind, ref=ref, target_id=target_id, batch_id=batch_id))
