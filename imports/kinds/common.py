"""Helpers every kind's checker shares: duplicate refs, loading rows by ref, conflicts."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from imports.cells import shown
from imports.columns import ParsedRow
from imports.preview import Checked, Context, Progress
from imports.problems import Problem
from imports.refs import RowRefused
from ledger.services.errors import ServiceError
from ledger.services.unit import use_case

__all__ = ["by_refs", "conflict", "duplicate_refs", "fetch_in", "post_each"]


def duplicate_refs(rows: Sequence[ParsedRow], column: str, checked: Checked) -> set[int]:
    """Report every row whose ref an earlier row already uses; returns those rows' numbers."""
    first: dict[str, int] = {}
    dupes: set[int] = set()
    for row in rows:
        ref = row.get(column)
        if ref is None:
            continue
        if ref in first:
            dupes.add(row.number)
            checked.problems.append(Problem(row.number, column, ref, (
                f"{column} {ref!r} is also on row {first[ref]}: each row needs its own ref")))
        else:
            first[ref] = row.number
    return dupes


def fetch_in(session: Session, query: sa.Select[Any], column: sa.ColumnElement[Any],
             keys: Iterable[Any]) -> list[sa.Row[Any]]:
    """Run `query` restricted to `column IN keys`, in chunks the databases accept."""
    items = sorted(set(keys), key=str)
    out: list[sa.Row[Any]] = []
    for start in range(0, len(items), 900):
        out.extend(session.execute(query.where(column.in_(items[start:start + 900]))).all())
    return out


def by_refs(session: Session, table: sa.Table, refs: Iterable[str]) -> dict[str, sa.Row[Any]]:
    """The rows of `table` whose `ref` is one of `refs`, keyed by ref."""
    rows = fetch_in(session, sa.select(table), table.c.ref, refs)
    return {str(r._mapping["ref"]): r for r in rows}


def conflict(row: int, column: str, ref: str, what: str,
             differences: list[tuple[str, Any, Any]]) -> list[Problem]:
    """A ref already in the ledger with other content: one problem per differing column."""
    return [Problem(row, name, shown(mine), (
        f"{what} {ref} is already in the ledger with {name} {shown(theirs) or '(blank)'!r}; "
        f"an import never overwrites the ledger: make the file agree, or correct the ledger "
        f"first")) for name, mine, theirs in differences] or [
        Problem(row, column, ref, f"{what} {ref} conflicts with the ledger")]


def post_each(items: Sequence[Any], created: list[tuple[str, int]], ctx: Context,
              progress: Progress, post: Callable[[Any], int], columns: dict[str, str],
              ref_column: str) -> int:
    """Post every planned row through its service inside the caller's transaction, keeping
    (ref, new id); a service refusal becomes that row's error, in the column its field names."""
    with use_case(ctx.session):
        for done, item in enumerate(items, start=1):
            try:
                made = post(item)
            except ServiceError as exc:
                column = columns.get(exc.field or "", ref_column)
                raise RowRefused(item.row, column, item.ref, exc.message) from exc
            created.append((item.ref, made))
            progress(done, len(items))
    return len(items)
