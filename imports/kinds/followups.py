"""`followups`: follow-up visits to trained people, one per row, recorded through
`record_follow_up`. A visit names its enrollment by `enrollment_ref`, or by `family_ref` when
the family has exactly one enrollment. Visits keep no ref: `followup_ref` is kept in
`import_ref` (kind "followups")."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from imports.cells import shown
from imports.columns import Column, ParsedRow
from imports.kinds.common import by_refs, conflict, duplicate_refs, fetch_in
from imports.kinds.enrollments import REF_KIND as ENROLLMENT_REFS
from imports.preview import Checked, Context, Progress
from imports.problems import Problem
from imports.refs import RowRefused, known_refs, remember_ref
from ledger.db.tables import VISIT_ACTIVITIES, core_table
from ledger.money import Money
from ledger.services.errors import ServiceError
from ledger.services.training_followups import (
    BUSINESS_STATUSES,
    VisitInput,
    record_follow_up,
    riel_equivalent,
    visit_problems,
)
from ledger.services.unit import use_case

__all__ = ["COLUMNS", "REF_KIND", "VisitPlan", "check", "commit", "remember"]

REF_KIND = "followups"
COLUMNS = (
    Column("followup_ref", required=True, max_length=60, example="V0001",
           help="The visit's reference: its identity, unique."),
    Column("enrollment_ref", max_length=60, example="E0001",
           help="The enrollment visited (imported before)."),
    Column("family_ref", max_length=40, example="",
           help="Instead of enrollment_ref, when the family has a single enrollment."),
    Column("visited_on", "date", required=True, example="2008-08-15", help="The visit's day."),
    Column("officer", required=True, max_length=80, example="Officer Dara",
           help="Who visited."),
    Column("activity", "choice", required=True, choices=VISIT_ACTIVITIES,
           example="self-employed", help="employed, self-employed or not-working."),
    Column("employer_or_business", max_length=200, example="Tailoring stall, Chipou market",
           help="Where the person works, or the business; blank only when not working."),
    Column("income", "amount", required=True, example="250,000", help="Income a month."),
    Column("food", "amount", example="120,000", help="Food costs a month; blank: 0."),
    Column("housing", "amount", example="30,000", help="Housing costs a month; blank: 0."),
    Column("currency", "currency", choices=("KHR", "USD"), example="KHR",
           help="KHR or USD; blank: riel."),
    Column("usd_rate", max_length=20, example="", help="For dollars: riel per dollar used."),
    Column("rate_on", "date", example="", help="For dollars: the date of that rate."),
    Column("business_status", "choice", choices=BUSINESS_STATUSES, example="running",
           help="How the business is doing, optional."),
    Column("note", max_length=2000, example="", help="Anything worth keeping, optional."),
)
_COLUMN = {"activity_detail": "employer_or_business", "rate": "usd_rate", "costs": "food",
           "notes": "note", "enrollment": "enrollment_ref"}


@dataclass(slots=True)
class VisitPlan:
    """The visits to record (file row, ref, input) and, once recorded, each ref with its id."""

    items: list[tuple[int, str, VisitInput]] = field(default_factory=list)
    created: list[tuple[str, int]] = field(default_factory=list)


def _column(name: str) -> str:
    return _COLUMN.get(name, name)


def _rate(row: ParsedRow, checked: Checked) -> tuple[bool, Decimal | None]:
    raw = row.get("usd_rate")
    if raw is None:
        return True, None
    try:
        rate = Decimal(str(raw).replace(",", "").replace(" ", ""))
    except InvalidOperation:
        rate = Decimal(-1)
    if not rate.is_finite() or rate <= 0 or rate != rate.quantize(Decimal("0.0001")):
        checked.problems.append(Problem(row.number, "usd_rate", shown(row.raw["usd_rate"]),
                                        "write the riel per dollar as a number, e.g. 4100"))
        return False, None
    return True, rate


def _single_enrollments(ctx: Context, family_ids: list[int]) -> dict[int, list[int]]:
    e = core_table("enrollment")
    out: dict[int, list[int]] = defaultdict(list)
    for eid, fid in fetch_in(ctx.session, sa.select(e.c.id, e.c.family_id), e.c.family_id,
                             family_ids):
        out[int(fid)].append(int(eid))
    return out


def _enrollment(row: ParsedRow, enrollments: dict[str, int], families: dict[str, Any],
                by_family: dict[int, list[int]]) -> tuple[int | None, Problem | None]:
    ref, family = row.get("enrollment_ref"), row.get("family_ref")
    if ref is not None:
        if ref in enrollments:
            return enrollments[ref], None
        return None, Problem(row.number, "enrollment_ref", ref, (
            f"enrollment {ref!r} is not in the ledger: import the enrollments file first, or "
            "correct the ref"))
    if family is None:
        return None, Problem(row.number, "enrollment_ref", "",
                             "write the enrollment_ref (or the family_ref) of the visit")
    if family not in families:
        return None, Problem(row.number, "family_ref", family,
                             f"family {family!r} is not in the ledger")
    found = by_family.get(int(families[family]._mapping["id"]), [])
    if len(found) != 1:
        return None, Problem(row.number, "family_ref", family, (
            f"family {family} has {len(found) or 'no'} enrollments: write the enrollment_ref "
            "of the one visited"))
    return found[0], None


def check(rows: list[ParsedRow], ctx: Context, present: set[str]) -> Checked:
    """Validate every visit: its enrollment, dates, activity, amounts and exchange rate, and
    conflicts with visits imported before."""
    checked = Checked()
    dupes = duplicate_refs(rows, "followup_ref", checked)
    enrollments = known_refs(ctx.session, ENROLLMENT_REFS,
                             [r.get("enrollment_ref") for r in rows if r.get("enrollment_ref")])
    families = by_refs(ctx.session, core_table("family"),
                       [r.get("family_ref") for r in rows if r.get("family_ref")])
    by_family = _single_enrollments(ctx, [int(f._mapping["id"]) for f in families.values()])
    e, v = core_table("enrollment"), core_table("follow_up_visit")
    ids = set(enrollments.values()) | {i for ids in by_family.values() for i in ids}
    enrolled_on = {int(r[0]): r[1] for r in fetch_in(
        ctx.session, sa.select(e.c.id, e.c.enrolled_on), e.c.id, ids)}
    known = known_refs(ctx.session, REF_KIND,
                       [r.get("followup_ref") for r in rows if r.get("followup_ref")])
    stored = {int(r._mapping["id"]): r for r in fetch_in(ctx.session, sa.select(v), v.c.id,
                                                          known.values())}
    plan = VisitPlan()
    for row in rows:
        ref = row.get("followup_ref")
        if ref is not None:
            checked.refs[row.number] = ref
        if not row.ok or row.number in dupes:
            continue
        enrollment_id, problem = _enrollment(row, enrollments, families, by_family)
        rate_ok, rate = _rate(row, checked)
        if problem is not None:
            checked.problems.append(problem)
        if enrollment_id is None or not rate_ok:
            continue
        income: Money = row.get("income")
        zero = Money(Decimal(0), income.currency)
        costs = row.get("food", zero) + row.get("housing", zero)
        data = VisitInput(enrollment_id=enrollment_id, visited_on=row.get("visited_on"),
                          officer=row.get("officer"), activity=row.get("activity"),
                          income=income, costs=costs,
                          activity_detail=row.get("employer_or_business") or "", rate=rate,
                          rate_on=row.get("rate_on"), business_status=row.get("business_status"),
                          notes=row.get("note") or "")
        problems = [(f, why) for f, why in visit_problems(data, today=ctx.today)]
        if data.visited_on < enrolled_on[enrollment_id]:
            problems.append(("visited_on", f"{data.visited_on} is before the enrollment "
                                           f"({enrolled_on[enrollment_id]})"))
        if problems:
            checked.problems.extend(Problem(row.number, _column(f),
                                            shown(row.raw.get(_column(f))), why)
                                    for f, why in problems)
            continue
        if ref in known:
            m = stored[known[ref]]._mapping
            diff = [(n, a, b) for n, a, b in (
                ("enrollment_ref", enrollment_id, m["enrollment_id"]),
                ("visited_on", data.visited_on, m["visited_on"]),
                ("officer", data.officer.strip(), m["officer"]),
                ("activity", data.activity, m["activity"]),
                ("employer_or_business", data.activity_detail.strip(), m["activity_detail"]),
                ("income", riel_equivalent(income, rate).minor, m["income_minor"]),
                ("food", riel_equivalent(costs, rate).minor, m["costs_minor"]),
                ("currency", income.currency.code, m["entered_currency"]),
                ("rate_on", data.rate_on, m["rate_on"]),
                ("business_status", data.business_status, m["business_status"]),
                ("note", data.notes, m["notes"])) if a != b]
            if diff:
                checked.problems.extend(conflict(row.number, "followup_ref", ref, "visit",
                                                 diff))
            else:
                checked.status[row.number] = "unchanged"
            continue
        checked.status[row.number] = "new"
        plan.items.append((row.number, ref, data))
    checked.plan = plan
    return checked


def commit(plan: VisitPlan, ctx: Context, progress: Progress) -> int:
    """Record every new visit, in file order, inside the caller's transaction."""
    with use_case(ctx.session):
        for done, (row, ref, data) in enumerate(plan.items, start=1):
            try:
                visit = record_follow_up(ctx.session, actor=ctx.actor, data=data,
                                         today=ctx.today)
            except ServiceError as exc:
                raise RowRefused(row, _column(exc.field or "followup_ref"), ref,
                                 exc.message) from exc
            assert visit.id is not None
            plan.created.append((ref, visit.id))
            progress(done, len(plan.items))
    return len(plan.items)


def remember(plan: VisitPlan, ctx: Context, batch_id: int) -> None:
    """Keep each new visit's ref, so importing the file again finds it."""
    for ref, target in plan.created:
        remember_ref(ctx.session, kind=REF_KIND, ref=ref, target_id=target, batch_id=batch_id)
