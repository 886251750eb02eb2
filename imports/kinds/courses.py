"""`courses`: training courses, one per row, recorded through `add_course`. A course keeps its
ref in its own table, so `course_ref` is the course's ref in the ledger."""

from __future__ import annotations

from typing import Any

from imports.cells import shown
from imports.columns import Column, ParsedRow
from imports.kinds.common import by_refs, conflict, duplicate_refs
from imports.preview import Checked, Context, Progress
from imports.problems import Problem
from imports.refs import RowRefused
from ledger.db.tables import SKILLS, core_table
from ledger.money import Money
from ledger.services.errors import ServiceError
from ledger.services.training import CourseInput, add_course, course_problems
from ledger.services.unit import use_case

__all__ = ["COLUMNS", "check", "commit"]

COLUMNS = (
    Column("course_ref", required=True, max_length=40, example="C2008-SEW1",
           help="The course's reference: its identity in the ledger, unique."),
    Column("skill", "choice", required=True, choices=SKILLS, example="sewing",
           help="The skill taught (see the Lists sheet)."),
    Column("provider", required=True, example="Svay Rieng Vocational Centre",
           help="Who teaches it."),
    Column("place", required=True, example="Svay Rieng town", help="Where it is taught."),
    Column("starts_on", "date", required=True, example="2008-02-01", help="First day."),
    Column("ends_on", "date", required=True, example="2008-04-30",
           help="Last day; not before the first."),
    Column("capacity", "whole", required=True, minimum=1, maximum=10_000, example="20",
           help="Places in the course."),
    Column("cost", "amount", required=True, example="400,000",
           help="What the Foundation pays per place."),
    Column("currency", "currency", choices=("KHR", "USD"), example="KHR",
           help="KHR or USD; blank: riel."),
)
_COLUMN = {"ref": "course_ref"}


def _input(row: ParsedRow) -> CourseInput:
    cost: Money = row.get("cost")
    return CourseInput(ref=row.get("course_ref"), skill=row.get("skill"),
                       provider=row.get("provider"), place=row.get("place"),
                       starts_on=row.get("starts_on"), ends_on=row.get("ends_on"),
                       capacity=row.get("capacity"), cost=cost)


def _differences(data: CourseInput, stored: Any) -> list[tuple[str, Any, Any]]:
    m = stored._mapping
    pairs: list[tuple[str, Any, Any]] = [
        ("skill", data.skill, m["skill"]), ("provider", data.provider, m["provider"]),
        ("place", data.place, m["place"]), ("starts_on", data.starts_on, m["starts_on"]),
        ("ends_on", data.ends_on, m["ends_on"]), ("capacity", data.capacity, m["capacity"]),
        ("cost", data.cost.minor, m["cost_minor"]),
        ("currency", data.cost.currency.code, m["currency"])]
    return [(n, a, b) for n, a, b in pairs if a != b]


def check(rows: list[ParsedRow], ctx: Context, present: set[str]) -> Checked:
    """Validate every course: dates in order, a known skill, conflicts with the ledger."""
    checked = Checked()
    dupes = duplicate_refs(rows, "course_ref", checked)
    stored = by_refs(ctx.session, core_table("course"),
                     [r.get("course_ref") for r in rows if r.get("course_ref")])
    plan: list[tuple[int, CourseInput]] = []
    for row in rows:
        ref = row.get("course_ref")
        if ref is not None:
            checked.refs[row.number] = ref
        if not row.ok or row.number in dupes:
            continue
        data = _input(row)
        problems = [Problem(row.number, _COLUMN.get(f, f),
                            shown(row.raw.get(_COLUMN.get(f, f))), why)
                    for f, why in course_problems(data)]
        if problems:
            checked.problems.extend(problems)
            continue
        if ref in stored:
            diff = _differences(data, stored[ref])
            if diff:
                checked.problems.extend(conflict(row.number, "course_ref", ref, "course", diff))
            else:
                checked.status[row.number] = "unchanged"
            continue
        checked.status[row.number] = "new"
        plan.append((row.number, data))
    checked.plan = plan
    return checked


def commit(plan: list[tuple[int, CourseInput]], ctx: Context, progress: Progress) -> int:
    """Record every new course, in file order, inside the caller's transaction."""
    with use_case(ctx.session):
        for done, (row, data) in enumerate(plan, start=1):
            try:
                add_course(ctx.session, actor=ctx.actor, data=data)
            except ServiceError as exc:
                raise RowRefused(row, _COLUMN.get(exc.field or "ref", exc.field or "ref"),
                                 data.ref, exc.message) from exc
            progress(done, len(plan))
    return len(plan)
