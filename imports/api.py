"""The two steps of every import: `validate` a file (reading nothing into the ledger) and
`commit` a valid preview in one transaction. The command line and the app both use these."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date
from pathlib import Path
from types import ModuleType

from sqlalchemy.orm import Session

from imports.collector import paused
from imports.columns import Column, match_headers, parse_table
from imports.kinds import (
    capital,
    collection,
    courses,
    enrollments,
    families,
    followups,
    grants,
    households,
    loans,
    recoveries,
    repayments,
    reschedules,
    reversals,
    writeoffs,
)
from imports.permissions import PERMISSIONS
from imports.preview import (
    Context,
    ImportPreview,
    ImportResult,
    Progress,
    RowOutcome,
    made_many,
)
from imports.problems import FileRefused, Problem
from imports.reader import read_table
from imports.refs import RowRefused
from ledger.actor import Actor
from ledger.db.tables import ImportBatch
from ledger.services.errors import ServiceError
from ledger.services.unit import in_use_case, use_case

__all__ = ["KINDS", "PERMISSIONS", "columns_of", "commit", "validate"]

KINDS: dict[str, ModuleType] = {"families": families, "loans": loans, "repayments": repayments,
                                "collection": collection, "courses": courses,
                                "enrollments": enrollments, "followups": followups,
                                "reschedules": reschedules, "writeoffs": writeoffs,
                                "recoveries": recoveries, "capital": capital, "grants": grants,
                                "reversals": reversals, "households": households}


def columns_of(kind: str) -> tuple[Column, ...]:
    """The columns of an import kind, in template order."""
    return tuple(KINDS[kind].COLUMNS)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _preview(kind: str, path: Path, today: date, problems: list[Problem], **kw: object
             ) -> ImportPreview:
    fields: dict[str, object] = {"sheet": "", "file_hash": "", "headers": (), "rows": (),
                                 "plan": None}
    fields.update(kw)
    return ImportPreview(kind=kind, path=path, today=today,
                         problems=tuple(sorted(problems, key=lambda p: (p.row or 0))),
                         **fields)  # type: ignore[arg-type]


def _outcomes(numbers: list[int], refs: dict[int, str], status: dict[int, str],
              by_row: dict[int, list[str]]) -> tuple[RowOutcome, ...]:
    """Each row's outcome: its problems' messages, else the status its checker gave."""
    if not by_row and len(refs) == len(status) == len(numbers):
        try:  # every row has a ref and a status and no problem: made in bulk
            return tuple(made_many(RowOutcome, numbers, list(map(refs.__getitem__, numbers)),
                                   list(map(status.__getitem__, numbers)),
                                   [""] * len(numbers)))
        except KeyError:  # a ref or status keyed by another row: row by row below
            pass
    return tuple(
        RowOutcome(n, refs.get(n, ""), "error", "; ".join(by_row[n])) if n in by_row
        else RowOutcome(n, refs.get(n, ""), status.get(n, "error"))
        for n in numbers)


def validate(kind: str, path: Path | str, *, session: Session, actor: Actor,
             today: date | None = None) -> ImportPreview:
    """Read and check a whole file; every problem is in the preview, none is raised. Nothing
    is written, and the session's transaction is ended so no lock outlives the preview."""
    with paused():  # a few objects a cell, none cyclic: see `imports.collector`
        return _validate(kind, path, session=session, actor=actor, today=today)


def _validate(kind: str, path: Path | str, *, session: Session, actor: Actor,
              today: date | None = None) -> ImportPreview:
    path, today = Path(path), today or date.today()
    if kind not in KINDS:
        return _preview(kind, path, today, [Problem(None, None, kind, (
            f"{kind!r} is not an import kind; kinds: {', '.join(KINDS)}"))])
    for permission in PERMISSIONS[kind]:
        actor.require(permission, f"importing {kind}")
    try:
        sheet = getattr(KINDS[kind], "read_table", read_table)(path, kind)
    except FileRefused as exc:
        return _preview(kind, path, today, [exc.problem()])
    file_hash = _sha256(path)
    mapping, problems, readable = match_headers(sheet, columns_of(kind), kind)
    problems = [*sheet.problems, *problems]
    if not readable:
        return _preview(kind, path, today, problems, sheet=sheet.name, file_hash=file_hash,
                        headers=sheet.headers)
    table = parse_table(sheet, mapping)
    if not table.numbers:
        problems.append(Problem(None, None, "", (
            f"sheet {sheet.name!r} has headers but no data rows: fill in one row per "
            f"{kind[:-1] if kind.endswith('s') else kind} below the headers")))
    problems.extend(table.problems)
    ctx = Context(session, actor, today)
    present = {c.name for c in mapping.values()}
    try:
        # A kind that reads columns takes the table; the others take a row object a line.
        check_table = getattr(KINDS[kind], "check_table", None)
        checked = (check_table(table, ctx, present) if check_table is not None
                   else KINDS[kind].check(table.rows(), ctx, present))
    finally:
        if not in_use_case(session):  # a bundle validates inside its one transaction
            session.rollback()  # validation only reads; end the transaction (and SQLite's lock)
    problems.extend(checked.problems)
    by_row: dict[int, list[str]] = defaultdict(list)
    for p in problems:
        if p.row is not None:
            by_row[p.row].append(p.message if not p.column else f"{p.column}: {p.message}")
    outcomes = _outcomes(table.numbers, checked.refs, checked.status, by_row)
    return _preview(kind, path, today, problems, sheet=sheet.name, file_hash=file_hash,
                    headers=sheet.headers, rows=outcomes, plan=checked.plan)


def commit(preview: ImportPreview, *, session: Session, actor: Actor,
           progress: Progress | None = None) -> ImportResult:
    """Write a valid preview's new rows in one transaction and record the batch; nothing is
    written when the preview has problems, when every row is already in the ledger, or when a
    service refuses a row (the result then carries that problem)."""
    if not preview.valid:
        return ImportResult(preview, False, 0, preview.unchanged, preview.problems)
    if preview.created == 0:
        return ImportResult(preview, False, 0, preview.unchanged)
    ctx = Context(session, actor, preview.today)
    report = progress or (lambda done, total: None)
    try:
        with use_case(session):
            created = KINDS[preview.kind].commit(preview.plan, ctx, report)
            batch = ImportBatch(kind=preview.kind, file_name=preview.path.name,
                                file_sha256=preview.file_hash, sheet=preview.sheet,
                                rows=len(preview.rows), created=created,
                                unchanged=preview.unchanged, imported_by=actor.name)
            session.add(batch)
            session.flush()
            remember = getattr(KINDS[preview.kind], "remember", None)
            if remember is not None:  # kinds whose rows keep their refs in import_ref
                assert batch.id is not None
                remember(preview.plan, ctx, batch.id)
    except RowRefused as exc:
        return ImportResult(preview, False, 0, preview.unchanged,
                            (Problem(exc.row, exc.column, exc.value, exc.message),))
    except ServiceError as exc:
        return ImportResult(preview, False, 0, preview.unchanged,
                            (Problem(None, exc.field, "", exc.message),))
    return ImportResult(preview, True, created, preview.unchanged, batch_id=batch.id)
