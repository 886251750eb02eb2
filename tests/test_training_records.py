"""Training records: courses, enrollments, loan links and follow-up visits are validated by
their services, follow-up visits are append-only in the database, and dollar amounts become
exact riel — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from ledger.actor import Actor, PermissionDenied, Role
from ledger.db.tables import Enrollment, FamilyMember, FollowUpVisit, Loan, LoanEvent
from ledger.money import USD, Money
from ledger.services.errors import Conflict, NotFound, ServiceError
from ledger.services.families import MemberInput
from ledger.services.training import (
    CourseInput,
    EnrollmentInput,
    add_course,
    correct_enrollment,
    enroll,
    link_loan_to_enrollment,
    set_enrollment_status,
    update_course,
)
from ledger.services.training_followups import VisitInput, record_follow_up, riel_equivalent
from tests.support.world import ACTOR, TODAY, World, build_world, riel

TREASURER = Actor("srey", frozenset({Role.TREASURER}))


def course(ref: str = "SEW-1", skill: str = "sewing", **kw: object) -> CourseInput:
    fields: dict[str, object] = dict(
        ref=ref, skill=skill, provider="PDoWA vocational centre", place="Svay Rieng town",
        starts_on=date(2008, 1, 7), ends_on=date(2008, 3, 28), capacity=2, cost=riel(400_000))
    fields.update(kw)
    return CourseInput(**fields)  # type: ignore[arg-type]


def visit(enrollment_id: int, **kw: object) -> VisitInput:
    fields: dict[str, object] = dict(
        enrollment_id=enrollment_id, visited_on=date(2008, 6, 20), officer="Chenda",
        activity="self-employed", activity_detail="sewing at home", income=riel(160_000),
        costs=riel(90_000))
    fields.update(kw)
    return VisitInput(**fields)  # type: ignore[arg-type]


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)


def test_course_validation(world: World) -> None:
    s = world.session
    with pytest.raises(ServiceError) as bad:
        add_course(s, actor=ACTOR, data=course(ends_on=date(2007, 12, 31), skill="juggling",
                                               capacity=0, cost=riel(-1)))
    message = bad.value.message
    assert bad.value.field == "skill"
    assert message.startswith("'juggling' is not one of: sewing, tailoring,")
    for field in ("ends_on", "capacity", "cost"):
        assert f"; {field}:" in message
    made = add_course(s, actor=ACTOR, data=course())
    assert (made.skill, made.cost_minor, made.currency) == ("sewing", 400_000, "KHR")
    with pytest.raises(Conflict):
        add_course(s, actor=ACTOR, data=course())
    with pytest.raises(PermissionDenied, match="officer"):
        add_course(s, actor=TREASURER, data=course("SEW-2"))


def test_enrollment_dates_and_statuses(world: World) -> None:
    s = world.session
    c = add_course(s, actor=ACTOR, data=course())
    assert c.id is not None
    fam = world.families[0]

    def data(**kw: object) -> EnrollmentInput:
        fields: dict[str, object] = dict(course_id=c.id, family_id=fam,
                                         enrolled_on=date(2008, 1, 7))
        fields.update(kw)
        return EnrollmentInput(**fields)  # type: ignore[arg-type]

    with pytest.raises(ServiceError, match="needs its completion date") as e1:
        enroll(s, actor=ACTOR, today=TODAY, data=data(status="completed"))
    assert e1.value.field == "completed_on"
    with pytest.raises(ServiceError, match="before the enrollment"):
        enroll(s, actor=ACTOR, today=TODAY,
               data=data(status="completed", completed_on=date(2008, 1, 1)))
    with pytest.raises(ServiceError, match="needs the date the person left"):
        enroll(s, actor=ACTOR, today=TODAY, data=data(status="dropped"))
    with pytest.raises(ServiceError, match="only a completed enrollment"):
        enroll(s, actor=ACTOR, today=TODAY, data=data(completed_on=date(2008, 3, 28)))
    with pytest.raises(ServiceError, match="in the future"):
        enroll(s, actor=ACTOR, today=date(2008, 1, 6), data=data())
    with pytest.raises(ServiceError, match="asked_skill"):
        enroll(s, actor=ACTOR, today=TODAY, data=data(asked_skill="astrology"))

    head = enroll(s, actor=ACTOR, today=TODAY, data=data(asked_skill="beauty-salon"))
    assert (head.status, head.asked_skill, head.family_member_id) == (
        "enrolled", "beauty-salon", None)
    with pytest.raises(Conflict, match="already enrolled"):
        enroll(s, actor=ACTOR, today=TODAY, data=data())
    daughter = enroll(s, actor=ACTOR, today=TODAY, data=data(
        new_member=MemberInput("ស្រីពៅ", "Srey Pov", "F", 1990, "daughter")))
    assert daughter.asked_skill == "sewing" and daughter.family_member_id is not None
    member = s.get(FamilyMember, daughter.family_member_id)
    assert member is not None and member.family_id == fam
    with pytest.raises(Conflict, match="full"):
        enroll(s, actor=ACTOR, today=TODAY, data=data(family_id=world.families[1]))
    with pytest.raises(NotFound):
        enroll(s, actor=ACTOR, today=TODAY, data=data(family_id=world.families[1],
                                                       member_id=daughter.family_member_id))

    assert head.id is not None and daughter.id is not None
    with pytest.raises(ServiceError, match="needs its completion date"):
        set_enrollment_status(s, actor=ACTOR, enrollment_id=head.id, status="completed",
                              on=None, today=TODAY)
    done = set_enrollment_status(s, actor=ACTOR, enrollment_id=head.id, status="completed",
                                 on=date(2008, 3, 28), today=TODAY)
    assert (done.status, done.completed_on, done.dropped_on) == ("completed",
                                                                 date(2008, 3, 28), None)
    left = set_enrollment_status(s, actor=ACTOR, enrollment_id=daughter.id, status="dropped",
                                 on=date(2008, 2, 1), today=TODAY)
    assert left.dropped_on == date(2008, 2, 1) and left.completed_on is None
    with pytest.raises(ServiceError, match="before the enrollment"):
        correct_enrollment(s, actor=ACTOR, enrollment_id=daughter.id,
                           enrolled_on=date(2008, 2, 5), today=TODAY)
    fixed = correct_enrollment(s, actor=ACTOR, enrollment_id=head.id, asked_skill="sewing",
                               today=TODAY)
    assert (fixed.asked_skill, fixed.status) == ("sewing", "completed")
    # A place freed by a drop can be taken; the course dates must still hold the enrollments.
    enroll(s, actor=ACTOR, today=TODAY, data=data(family_id=world.families[1]))
    with pytest.raises(ServiceError, match="completed on 2008-03-28"):
        update_course(s, actor=ACTOR, course_id=c.id,
                      data=course(starts_on=date(2008, 4, 1), ends_on=date(2008, 6, 1)))
    # The database itself refuses a completed status without a date.
    with pytest.raises(sa.exc.IntegrityError):
        s.execute(sa.update(Enrollment).where(Enrollment.id == head.id)  # type: ignore[arg-type]
                  .values(completed_on=None))
        s.flush()
    s.rollback()


def test_loan_link_names_an_enrollment_of_the_same_family(world: World) -> None:
    s = world.session
    c = add_course(s, actor=ACTOR, data=course(skill="pig-raising", ref="PIG-1"))
    assert c.id is not None
    mine = enroll(s, actor=ACTOR, today=TODAY, data=EnrollmentInput(
        course_id=c.id, family_id=world.families[0], enrolled_on=date(2008, 1, 7)))
    theirs = enroll(s, actor=ACTOR, today=TODAY, data=EnrollmentInput(
        course_id=c.id, family_id=world.families[1], enrolled_on=date(2008, 1, 7)))
    loan_id = world.loan(world.families[0], on=date(2008, 4, 2))
    assert mine.id is not None and theirs.id is not None
    before = s.get(Loan, loan_id)
    assert before is not None
    terms = (before.principal_minor, before.rate, before.repayments, before.status)
    with pytest.raises(ServiceError, match="another family"):
        link_loan_to_enrollment(s, actor=ACTOR, loan_id=loan_id, enrollment_id=theirs.id)
    with pytest.raises(NotFound):
        link_loan_to_enrollment(s, actor=ACTOR, loan_id=loan_id, enrollment_id=999_999)
    with pytest.raises(PermissionDenied):
        link_loan_to_enrollment(s, actor=TREASURER, loan_id=loan_id, enrollment_id=mine.id)
    link_loan_to_enrollment(s, actor=ACTOR, loan_id=loan_id, enrollment_id=mine.id,
                            on=date(2008, 4, 2))
    s.expire_all()
    after = s.get(Loan, loan_id)
    assert after is not None and after.enrollment_id == mine.id
    assert (after.principal_minor, after.rate, after.repayments, after.status) == terms
    notes = s.execute(sa.select(LoanEvent.note).where(  # type: ignore[call-overload]
        LoanEvent.loan_id == loan_id, LoanEvent.event == "training_link")).scalars().all()
    assert notes == [f"linked to enrollment {mine.id} (pig-raising, course PIG-1)"]


def test_follow_up_validation_and_exact_riel(world: World) -> None:
    s = world.session
    c = add_course(s, actor=ACTOR, data=course())
    assert c.id is not None
    e = enroll(s, actor=ACTOR, today=TODAY, data=EnrollmentInput(
        course_id=c.id, family_id=world.families[0], enrolled_on=date(2008, 1, 7),
        status="completed", completed_on=date(2008, 3, 28)))
    assert e.id is not None
    with pytest.raises(ServiceError) as bad:
        record_follow_up(s, actor=ACTOR, today=TODAY, data=visit(
            e.id, income=riel(-1), activity="employed", activity_detail=""))
    assert bad.value.field == "activity_detail"
    assert bad.value.message == "say where the person is employed; income: cannot be negative"
    dollars = visit(e.id, income=Money(Decimal("37.50"), USD), costs=Money(Decimal("20"), USD))
    with pytest.raises(ServiceError, match="riel rate"):
        record_follow_up(s, actor=ACTOR, today=TODAY, data=dollars)
    with pytest.raises(ServiceError, match="after the visit"):
        record_follow_up(s, actor=ACTOR, today=TODAY, data=VisitInput(**{
            **{f: getattr(dollars, f) for f in dollars.__slots__},  # type: ignore[attr-defined]
            "rate": Decimal("4051"), "rate_on": date(2008, 6, 21)}))
    with pytest.raises(ServiceError, match="before the enrollment"):
        record_follow_up(s, actor=ACTOR, today=TODAY, data=visit(e.id, visited_on=date(2007, 1, 1)))
    with pytest.raises(PermissionDenied):
        record_follow_up(s, actor=TREASURER, today=TODAY, data=visit(e.id))

    # 37.50 × 4,051.5 = 151,931.25 → 151,931; a half riel goes to the even riel.
    assert riel_equivalent(Money(Decimal("37.50"), USD), Decimal("4051.5")) == riel(151_931)
    assert riel_equivalent(Money(Decimal("0.01"), USD), Decimal("4050")) == riel(40)
    assert riel_equivalent(Money(Decimal("0.25"), USD), Decimal("4002")) == riel(1000)
    assert riel_equivalent(Money(Decimal("0.25"), USD), Decimal("4006")) == riel(1002)
    v = record_follow_up(s, actor=ACTOR, today=TODAY, data=VisitInput(
        enrollment_id=e.id, visited_on=date(2008, 6, 20), officer="Chenda",
        activity="employed", activity_detail="tailor shop, Bavet", income=Money(
            Decimal("37.50"), USD), costs=Money(Decimal("20.25"), USD), rate=Decimal("4051.5"),
        rate_on=date(2008, 6, 18), business_status="running"))
    assert v.id is not None
    s.expire_all()
    row = s.get(FollowUpVisit, v.id)
    assert row is not None
    assert (row.income_minor, row.costs_minor) == (151_931, 82_043)
    assert (row.entered_currency, row.entered_income_minor, row.entered_costs_minor) == (
        "USD", 3750, 2025)
    assert (row.rate, row.rate_on) == (Decimal("4051.5"), date(2008, 6, 18))

    fix = record_follow_up(s, actor=ACTOR, today=TODAY, data=visit(e.id, corrects=v.id))
    with pytest.raises(Conflict, match="already corrected"):
        record_follow_up(s, actor=ACTOR, today=TODAY, data=visit(e.id, corrects=v.id))
    assert fix.corrects_id == v.id


def test_follow_up_visits_are_append_only(world: World) -> None:
    s = world.session
    c = add_course(s, actor=ACTOR, data=course())
    assert c.id is not None
    e = enroll(s, actor=ACTOR, today=TODAY, data=EnrollmentInput(
        course_id=c.id, family_id=world.families[0], enrolled_on=date(2008, 1, 7)))
    assert e.id is not None
    v = record_follow_up(s, actor=ACTOR, today=TODAY, data=visit(e.id))
    for statement in (
        sa.update(FollowUpVisit).where(FollowUpVisit.id == v.id)  # type: ignore[arg-type]
        .values(income_minor=999_999),
        sa.delete(FollowUpVisit).where(FollowUpVisit.id == v.id),  # type: ignore[arg-type]
    ):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            s.execute(statement)
        s.rollback()
    s.expire_all()
    kept = s.get(FollowUpVisit, v.id)
    assert kept is not None and kept.income_minor == 160_000
