"""`enrollments`: a family's head or member in a course, one per row, recorded through
`enroll`. The enrollment table keeps no ref: `enrollment_ref` is kept in `import_ref` (kind
"enrollments", the name the `loans` and `followups` kinds look it up by)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa

from imports.cells import shown
from imports.columns import Column, ParsedRow
from imports.kinds.common import by_refs, conflict, duplicate_refs, fetch_in
from imports.preview import Checked, Context, Progress
from imports.problems import Problem
from imports.refs import RowRefused, known_refs, remember_ref
from ledger.db.tables import ENROLLMENT_STATUSES, SKILLS, Course, core_table
from ledger.services.errors import ServiceError
from ledger.services.families import MemberInput
from ledger.services.training import EnrollmentInput, enroll, enrollment_problems
from ledger.services.unit import use_case

__all__ = ["COLUMNS", "REF_KIND", "EnrollmentPlan", "check", "commit", "remember"]

REF_KIND = "enrollments"
COLUMNS = (
    Column("enrollment_ref", required=True, max_length=60, example="E0001",
           help="The enrollment's reference: its identity, unique."),
    Column("family_ref", required=True, max_length=40, example="F001",
           help="The family (already in the ledger)."),
    Column("member", max_length=200, example="",
           help="The person trained, as named in the family; blank: the head."),
    Column("course_ref", required=True, max_length=40, example="C2008-SEW1",
           help="The course (already in the ledger)."),
    Column("requested_skill", "choice", choices=SKILLS, example="sewing",
           help="The skill the person asked for; blank: the course's."),
    # Not "status": that header is the feedback workbook's, which imports ignore.
    Column("enrollment_status", "choice", choices=ENROLLMENT_STATUSES, example="completed",
           help="enrolled, completed or dropped; blank: enrolled."),
    Column("enrolled_on", "date", required=True, example="2008-02-01",
           help="The day the person was enrolled."),
    Column("completed_on", "date", example="2008-04-30",
           help="For a completed enrollment: the day it was completed."),
    Column("left_on", "date", example="",
           help="For a dropped enrollment: the day the person left."),
)
_COLUMN = {"asked_skill": "requested_skill", "status": "enrollment_status",
           "dropped_on": "left_on", "course": "course_ref", "family": "family_ref",
           "member": "member"}


@dataclass(frozen=True, slots=True)
class NewEnrollment:
    """One enrollment to record: its file row, ref and the service input."""

    row: int
    ref: str
    data: EnrollmentInput
    member: str  # the new member's name, or "" (head or existing member)


@dataclass(slots=True)
class EnrollmentPlan:
    """The enrollments to record and, once recorded, each ref with its new id."""

    items: list[NewEnrollment] = field(default_factory=list)
    created: list[tuple[str, int]] = field(default_factory=list)


def _column(name: str) -> str:
    return _COLUMN.get(name, name)


def _members(ctx: Context, family_ids: list[int]) -> dict[int, dict[str, int]]:
    """family id → member name (and Latin spelling), folded → member id."""
    fm = core_table("family_member")
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for r in fetch_in(ctx.session, sa.select(fm.c.id, fm.c.family_id, fm.c.name,
                                             fm.c.name_latin), fm.c.family_id, family_ids):
        for name in (r[2], r[3]):
            if name:
                out[int(r[1])][str(name).strip().casefold()] = int(r[0])
    return out


def _stored(ctx: Context, ids: list[int]) -> dict[int, Any]:
    e = core_table("enrollment")
    return {int(r._mapping["id"]): r for r in fetch_in(ctx.session, sa.select(e), e.c.id, ids)}


def _taken(ctx: Context, course_ids: list[int]) -> tuple[Counter[int], set[tuple[Any, ...]]]:
    """Places taken per course, and the (course, family, member) already enrolled."""
    e = core_table("enrollment")
    taken: Counter[int] = Counter()
    people: set[tuple[Any, ...]] = set()
    for cid, fid, mid, status in fetch_in(ctx.session, sa.select(
            e.c.course_id, e.c.family_id, e.c.family_member_id, e.c.status), e.c.course_id,
            course_ids):
        people.add((int(cid), int(fid), mid))
        if status != "dropped":
            taken[int(cid)] += 1
    return taken, people


def _course(row: Any) -> Course:
    m = row._mapping
    return Course(id=m["id"], ref=m["ref"], skill=m["skill"], provider=m["provider"],
                  place=m["place"], starts_on=m["starts_on"], ends_on=m["ends_on"],
                  capacity=m["capacity"], cost_minor=m["cost_minor"], currency=m["currency"],
                  created_by=m["created_by"])


def check(rows: list[ParsedRow], ctx: Context, present: set[str]) -> Checked:
    """Validate every enrollment: its family, person and course, dates and status in order,
    places left in the course, conflicts with enrollments imported before."""
    checked = Checked()
    dupes = duplicate_refs(rows, "enrollment_ref", checked)
    families = by_refs(ctx.session, core_table("family"),
                       [r.get("family_ref") for r in rows if r.get("family_ref")])
    courses = by_refs(ctx.session, core_table("course"),
                      [r.get("course_ref") for r in rows if r.get("course_ref")])
    members = _members(ctx, [int(f._mapping["id"]) for f in families.values()])
    known = known_refs(ctx.session, REF_KIND,
                       [r.get("enrollment_ref") for r in rows if r.get("enrollment_ref")])
    stored = _stored(ctx, list(known.values()))
    taken, people = _taken(ctx, [int(c._mapping["id"]) for c in courses.values()])
    plan = EnrollmentPlan()
    for row in rows:
        ref = row.get("enrollment_ref")
        if ref is not None:
            checked.refs[row.number] = ref
        if not row.ok or row.number in dupes:
            continue
        family, course = families.get(row.get("family_ref")), courses.get(row.get("course_ref"))
        missing = []
        if family is None:
            missing.append(Problem(row.number, "family_ref", row.get("family_ref"), (
                f"family {row.get('family_ref')!r} is not in the ledger: import the families "
                "file first, or correct the ref")))
        if course is None:
            missing.append(Problem(row.number, "course_ref", row.get("course_ref"), (
                f"course {row.get('course_ref')!r} is not in the ledger: import the courses "
                "file first, or correct the ref")))
        if missing:
            checked.problems.extend(missing)
            continue
        assert family is not None and course is not None
        fid, cid = int(family._mapping["id"]), int(course._mapping["id"])
        name = (row.get("member") or "").strip()
        head = str(family._mapping["head_name"]).strip().casefold()
        member_id = (None if not name or name.casefold() == head
                     else members[fid].get(name.casefold()))
        new_name = name if name and name.casefold() != head and member_id is None else ""
        data = EnrollmentInput(
            course_id=cid, family_id=fid, enrolled_on=row.get("enrolled_on"),
            member_id=member_id, new_member=MemberInput(new_name) if new_name else None,
            asked_skill=row.get("requested_skill"),
            status=row.get("enrollment_status") or "enrolled",
            completed_on=row.get("completed_on"), dropped_on=row.get("left_on"))
        problems = [Problem(row.number, _column(f), shown(row.raw.get(_column(f))), why)
                    for f, why in enrollment_problems(data, course=_course(course),
                                                      today=ctx.today)]
        if problems:
            checked.problems.extend(problems)
            continue
        if ref in known:
            m = stored[known[ref]]._mapping
            diff = [(n, a, b) for n, a, b in (
                ("family_ref", fid, m["family_id"]), ("course_ref", cid, m["course_id"]),
                ("member", member_id, m["family_member_id"]),
                ("enrollment_status", data.status, m["status"]),
                ("enrolled_on", data.enrolled_on, m["enrolled_on"]),
                ("completed_on", data.completed_on, m["completed_on"]),
                ("left_on", data.dropped_on, m["dropped_on"]),
                ("requested_skill", data.asked_skill or course._mapping["skill"],
                 m["asked_skill"])) if a != b]
            if new_name:
                diff.append(("member", name, "another person"))
            if diff:
                checked.problems.extend(conflict(row.number, "enrollment_ref", ref,
                                                 "enrollment", diff))
            else:
                checked.status[row.number] = "unchanged"
            continue
        person = (cid, fid, member_id if not new_name else f"new:{new_name.casefold()}")
        if person in people:
            checked.problems.append(Problem(row.number, "member", name or "(the head)", (
                f"this person is already enrolled in course {row.get('course_ref')}: each "
                "person enrols in a course once")))
            continue
        if data.status != "dropped":
            taken[cid] += 1
            if taken[cid] > int(course._mapping["capacity"]):
                checked.problems.append(Problem(row.number, "course_ref", row.get("course_ref"), (
                    f"course {row.get('course_ref')} is full ({course._mapping['capacity']} "
                    "places) with this file's earlier rows: raise its capacity first")))
                continue
        people.add(person)
        checked.status[row.number] = "new"
        plan.items.append(NewEnrollment(row.number, ref, data, new_name))
    checked.plan = plan
    return checked


def commit(plan: EnrollmentPlan, ctx: Context, progress: Progress) -> int:
    """Enrol every new row, in file order; a new member named on several rows is recorded
    once."""
    added: dict[tuple[int, str], int] = {}
    with use_case(ctx.session):
        for done, item in enumerate(plan.items, start=1):
            data, key = item.data, (item.data.family_id, item.member.casefold())
            if item.member and key in added:
                data = replace(data, member_id=added[key], new_member=None)
            try:
                enrollment = enroll(ctx.session, actor=ctx.actor, data=data, today=ctx.today)
            except ServiceError as exc:
                raise RowRefused(item.row, _column(exc.field or "enrollment_ref"), item.ref,
                                 exc.message) from exc
            assert enrollment.id is not None
            if item.member and key not in added:
                assert enrollment.family_member_id is not None
                added[key] = enrollment.family_member_id
            plan.created.append((item.ref, enrollment.id))
            progress(done, len(plan.items))
    return len(plan.items)


def remember(plan: EnrollmentPlan, ctx: Context, batch_id: int) -> None:
    """Keep each new enrollment's ref, so re-imports find it and loans and visits name it."""
    for ref, target in plan.created:
        remember_ref(ctx.session, kind=REF_KIND, ref=ref, target_id=target, batch_id=batch_id)
