"""Skills training: courses, enrollments (and their status), and the loan–enrollment link.

Courses and enrollments are master data an officer may edit; an enrollment's status changes
only through `set_enrollment_status`, which records the date. A loan names the enrollment whose
skill its activity uses (`loan.enrollment_id`, a plain integer checked here): the link is no
money field, so it may be set after the loan is made, and each change is written to the loan's
append-only event log. Follow-up visits are in `ledger.services.training_followups`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from ledger.actor import Actor, Permission
from ledger.db.tables import (
    ENROLLMENT_STATUSES,
    SKILLS,
    Course,
    Enrollment,
    Family,
    FamilyMember,
)
from ledger.money import Money
from ledger.services.errors import Conflict, NotFound, ServiceError
from ledger.services.families import MemberInput
from ledger.services.loan_book import get_loan
from ledger.services.loans import log_event
from ledger.services.unit import transactional, use_case

__all__ = [
    "CourseInput",
    "EnrollmentInput",
    "add_course",
    "correct_enrollment",
    "course_problems",
    "enroll",
    "enrollment_problems",
    "find_course",
    "get_enrollment",
    "link_loan_to_enrollment",
    "refuse_problems",
    "set_enrollment_status",
    "update_course",
]


@dataclass(frozen=True, slots=True)
class CourseInput:
    """A course as an officer enters it."""

    ref: str
    skill: str
    provider: str
    place: str
    starts_on: date
    ends_on: date
    capacity: int
    cost: Money


@dataclass(frozen=True, slots=True)
class EnrollmentInput:
    """One person in one course. `member_id` None enrols the family's head; `new_member`
    records a member not listed at registration and enrols them. `asked_skill` None means the
    person asked for the course's own skill."""

    course_id: int
    family_id: int
    enrolled_on: date
    member_id: int | None = None
    new_member: MemberInput | None = None
    asked_skill: str | None = None
    status: str = "enrolled"
    completed_on: date | None = None
    dropped_on: date | None = None


def refuse_problems(problems: list[tuple[str, str]]) -> None:
    """Raise one ServiceError naming the first field at fault and listing every other."""
    if problems:
        (field, why), rest = problems[0], problems[1:]
        raise ServiceError("; ".join([why, *(f"{f}: {w}" for f, w in rest)]), field=field)


def _skill_problem(field: str, skill: str) -> list[tuple[str, str]]:
    if skill in SKILLS:
        return []
    return [(field, f"{skill!r} is not one of: {', '.join(SKILLS)}")]


def course_problems(data: CourseInput) -> list[tuple[str, str]]:
    """Every (field, reason) that stops this course from being recorded."""
    out: list[tuple[str, str]] = []
    if not data.ref.strip():
        out.append(("ref", "is empty"))
    out += _skill_problem("skill", data.skill)
    if not data.provider.strip():
        out.append(("provider", "is empty"))
    if not data.place.strip():
        out.append(("place", "is empty"))
    if data.ends_on < data.starts_on:
        out.append(("ends_on", f"{data.ends_on} is before the start {data.starts_on}"))
    if data.capacity < 1:
        out.append(("capacity", "must be at least 1"))
    if data.cost.amount < 0:
        out.append(("cost", "cannot be negative"))
    return out


def enrollment_problems(data: EnrollmentInput, *, course: Course,
                        today: date) -> list[tuple[str, str]]:
    """Every (field, reason) that stops this enrollment: dates in order, a completed
    enrollment with its completion date, a dropped one with its leaving date."""
    out: list[tuple[str, str]] = []
    if data.asked_skill is not None:
        out += _skill_problem("asked_skill", data.asked_skill)
    if data.member_id is not None and data.new_member is not None:
        out.append(("member", "name an existing member or a new one, not both"))
    if data.status not in ENROLLMENT_STATUSES:
        out.append(("status", f"{data.status!r} is not one of {', '.join(ENROLLMENT_STATUSES)}"))
    if data.enrolled_on > today:
        out.append(("enrolled_on", f"{data.enrolled_on} is in the future"))
    if data.enrolled_on > course.ends_on:
        out.append(("enrolled_on", f"{data.enrolled_on} is after the course ended "
                                   f"({course.ends_on})"))
    out += _status_problems(data.status, data.enrolled_on, data.completed_on, data.dropped_on,
                            course=course, today=today)
    return out


def _status_problems(status: str, enrolled_on: date, completed_on: date | None,
                     dropped_on: date | None, *, course: Course,
                     today: date) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if status == "completed":
        if completed_on is None:
            out.append(("completed_on", "a completed enrollment needs its completion date"))
        elif completed_on < max(enrolled_on, course.starts_on):
            out.append(("completed_on", f"{completed_on} is before the enrollment "
                                        f"({enrolled_on}) or the course start "
                                        f"({course.starts_on})"))
        elif completed_on > today:
            out.append(("completed_on", f"{completed_on} is in the future"))
    elif completed_on is not None:
        out.append(("completed_on", f"only a completed enrollment has one (status {status})"))
    if status == "dropped":
        if dropped_on is None:
            out.append(("dropped_on", "a dropped enrollment needs the date the person left"))
        elif dropped_on < enrolled_on:
            out.append(("dropped_on", f"{dropped_on} is before the enrollment ({enrolled_on})"))
        elif dropped_on > today:
            out.append(("dropped_on", f"{dropped_on} is in the future"))
    elif dropped_on is not None:
        out.append(("dropped_on", f"only a dropped enrollment has one (status {status})"))
    return out


def find_course(session: Session, ref: str) -> Course:
    """The course with this ref, or NotFound."""
    course = session.execute(sa.select(Course).where(col(Course.ref) == ref)).scalars().first()
    if course is None:
        raise NotFound(f"{ref!r} is not a course in this ledger", field="course")
    return course


def get_enrollment(session: Session, enrollment_id: int) -> Enrollment:
    """The enrollment row, or NotFound."""
    row = session.get(Enrollment, enrollment_id)
    if row is None:
        raise NotFound(f"enrollment id {enrollment_id} is not in this ledger", field="enrollment")
    return row


@transactional
def add_course(session: Session, *, actor: Actor, data: CourseInput) -> Course:
    """Record a course; refs are unique."""
    actor.require(Permission.ENTER_TRAININGS)
    refuse_problems(course_problems(data))
    if session.execute(sa.select(col(Course.id)).where(col(Course.ref) == data.ref)).first():
        raise Conflict(f"a course with ref {data.ref!r} already exists", field="ref")
    with use_case(session):
        course = Course(ref=data.ref.strip(), skill=data.skill, provider=data.provider.strip(),
                        place=data.place.strip(), starts_on=data.starts_on, ends_on=data.ends_on,
                        capacity=data.capacity, cost_minor=data.cost.minor,
                        currency=data.cost.currency.code, created_by=actor.name)
        session.add(course)
        session.flush()
    return course


@transactional
def update_course(session: Session, *, actor: Actor, course_id: int, data: CourseInput) -> Course:
    """Correct a course's details; its dates must still hold every enrollment's dates and its
    capacity every enrollment that did not drop."""
    actor.require(Permission.ENTER_TRAININGS)
    refuse_problems(course_problems(data))
    course = session.get(Course, course_id)
    if course is None:
        raise NotFound(f"course id {course_id} is not in this ledger", field="course")
    e = Enrollment
    first, last_done, taken = session.execute(
        sa.select(sa.func.min(col(e.enrolled_on)), sa.func.max(col(e.completed_on)),
                  sa.func.count().filter(col(e.status) != "dropped"))
        .where(col(e.course_id) == course_id)
    ).one()
    if first is not None and first > data.ends_on:
        raise ServiceError(f"someone enrolled on {first}, after the new end", field="ends_on")
    if last_done is not None and last_done < data.starts_on:
        raise ServiceError(f"someone completed on {last_done}, before the new start",
                           field="starts_on")
    if int(taken or 0) > data.capacity:
        raise ServiceError(f"{taken} people are enrolled", field="capacity")
    with use_case(session):
        course.ref, course.skill, course.provider = data.ref.strip(), data.skill, data.provider
        course.place, course.starts_on, course.ends_on = data.place, data.starts_on, data.ends_on
        course.capacity, course.cost_minor = data.capacity, data.cost.minor
        course.currency = data.cost.currency.code
        session.add(course)
    return course


def _check_person(session: Session, data: EnrollmentInput) -> None:
    if session.get(Family, data.family_id) is None:
        raise NotFound(f"family id {data.family_id} is not in this ledger", field="family")
    if data.member_id is not None:
        member = session.get(FamilyMember, data.member_id)
        if member is None or member.family_id != data.family_id:
            raise NotFound(f"member id {data.member_id} is not in family id {data.family_id}",
                           field="member")
    e = Enrollment
    member_match = (col(e.family_member_id).is_(None) if data.member_id is None
                    else col(e.family_member_id) == data.member_id)
    if data.new_member is None and session.execute(
        sa.select(col(e.id)).where(col(e.course_id) == data.course_id,
                                   col(e.family_id) == data.family_id, member_match)
    ).first():
        raise Conflict("this person is already enrolled in the course", field="member")


@transactional
def enroll(session: Session, *, actor: Actor, data: EnrollmentInput, today: date) -> Enrollment:
    """Enrol a family's head or member in a course (a past training may be entered already
    completed or dropped, with its date). Refused when the course is full."""
    actor.require(Permission.ENTER_TRAININGS)
    course = session.get(Course, data.course_id, with_for_update=True)
    if course is None:
        raise NotFound(f"course id {data.course_id} is not in this ledger", field="course")
    refuse_problems(enrollment_problems(data, course=course, today=today))
    _check_person(session, data)
    taken = session.execute(
        sa.select(sa.func.count()).select_from(Enrollment)
        .where(col(Enrollment.course_id) == course.id, col(Enrollment.status) != "dropped")
    ).scalar_one()
    if data.status != "dropped" and int(taken) >= course.capacity:
        raise Conflict(f"course {course.ref} is full ({course.capacity} places)", field="course")
    with use_case(session):
        member_id = data.member_id
        if data.new_member is not None:
            m = data.new_member
            if not m.name.strip():
                raise ServiceError("the member's name is empty", field="member")
            row = FamilyMember(family_id=data.family_id, name=m.name.strip(),
                               name_latin=m.name_latin, sex=m.sex, birth_year=m.birth_year,
                               relation=m.relation)
            session.add(row)
            session.flush()
            member_id = row.id
        enrollment = Enrollment(
            course_id=data.course_id, family_id=data.family_id, family_member_id=member_id,
            asked_skill=data.asked_skill or course.skill, status=data.status,
            enrolled_on=data.enrolled_on, completed_on=data.completed_on,
            dropped_on=data.dropped_on, created_by=actor.name)
        session.add(enrollment)
        session.flush()
    return enrollment


@transactional
def set_enrollment_status(session: Session, *, actor: Actor, enrollment_id: int, status: str,
                          on: date | None, today: date) -> Enrollment:
    """Move an enrollment to `status` (completed or dropped on `on`; enrolled again clears the
    dates), checking the dates against the enrollment and the course."""
    actor.require(Permission.ENTER_TRAININGS)
    enrollment = get_enrollment(session, enrollment_id)
    course = session.get(Course, enrollment.course_id)
    assert course is not None
    if status not in ENROLLMENT_STATUSES:
        refuse_problems([("status", f"{status!r} is not one of {', '.join(ENROLLMENT_STATUSES)}")])
    completed_on = on if status == "completed" else None
    dropped_on = on if status == "dropped" else None
    refuse_problems(_status_problems(status, enrollment.enrolled_on, completed_on, dropped_on,
                             course=course, today=today))
    with use_case(session):
        enrollment.status = status
        enrollment.completed_on, enrollment.dropped_on = completed_on, dropped_on
        session.add(enrollment)
    return enrollment


@transactional
def correct_enrollment(session: Session, *, actor: Actor, enrollment_id: int,
                       asked_skill: str | None = None, enrolled_on: date | None = None,
                       today: date) -> Enrollment:
    """Correct the skill a person asked for or the enrollment date (status and its dates move
    only through `set_enrollment_status`)."""
    actor.require(Permission.ENTER_TRAININGS)
    enrollment = get_enrollment(session, enrollment_id)
    course = session.get(Course, enrollment.course_id)
    assert course is not None
    data = EnrollmentInput(
        course_id=enrollment.course_id, family_id=enrollment.family_id,
        enrolled_on=enrolled_on or enrollment.enrolled_on,
        asked_skill=asked_skill or enrollment.asked_skill, status=enrollment.status,
        completed_on=enrollment.completed_on, dropped_on=enrollment.dropped_on)
    refuse_problems(enrollment_problems(data, course=course, today=today))
    with use_case(session):
        enrollment.enrolled_on = data.enrolled_on
        enrollment.asked_skill = data.asked_skill or course.skill
        session.add(enrollment)
    return enrollment


@transactional
def link_loan_to_enrollment(session: Session, *, actor: Actor, loan_id: int,
                            enrollment_id: int | None, on: date | None = None) -> None:
    """Name the enrollment whose skill the loan's activity uses (None removes the link). The
    enrollment must belong to the loan's family; the contract terms are untouched and the
    change is written to the loan's event log."""
    actor.require(Permission.ENTER_TRAININGS)
    loan = get_loan(session, loan_id, lock=True)
    note = "link to training removed"
    if enrollment_id is not None:
        enrollment = get_enrollment(session, enrollment_id)
        if enrollment.family_id != loan.family_id:
            raise ServiceError(f"enrollment {enrollment_id} belongs to another family than loan "
                               f"{loan.ref}", field="enrollment")
        course = session.get(Course, enrollment.course_id)
        assert course is not None
        note = f"linked to enrollment {enrollment_id} ({course.skill}, course {course.ref})"
    if loan.enrollment_id == enrollment_id:
        return
    with use_case(session):
        loan.enrollment_id = enrollment_id
        session.add(loan)
        log_event(session, loan, event="training_link", on=on or loan.applied_on, by=actor.name,
                  note=note)
