"""Training reports on a hand-worked ledger: outcomes per skill (mismatch, linked loans' PAR30
and on-time rate, median latest income, share at the minimum wage) and follow-ups due and
overdue by village and officer — on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from ledger.actor import Actor, PermissionDenied, Role
from ledger.db.tables import Loan, Village
from ledger.money import KHR, USD, Money
from ledger.reports.training import follow_ups_due, skill_outcomes
from ledger.services.errors import ServiceError
from ledger.services.families import MemberInput
from ledger.services.loan_book import load_dues
from ledger.services.repayments import record_repayment
from ledger.services.training import (
    CourseInput,
    EnrollmentInput,
    add_course,
    enroll,
    link_loan_to_enrollment,
)
from ledger.services.training_followups import VisitInput, record_follow_up
from tests.support.world import ACTOR, TODAY, build_world, riel


@dataclass
class Set:
    session: Session
    villages: list[int]
    families: list[int]
    enrollments: dict[str, int]
    pig_on_time: Decimal  # L4: the first six dues' amounts over the first seven's


def usd(text: str) -> Money:
    return Money(Decimal(text), USD)


def _course(s: Session, ref: str, skill: str, start: date, end: date) -> int:
    c = add_course(s, actor=ACTOR, data=CourseInput(
        ref=ref, skill=skill, provider="PDoWA", place="Svay Rieng", starts_on=start,
        ends_on=end, capacity=10, cost=riel(300_000)))
    assert c.id is not None
    return c.id


def _visit(s: Session, eid: int, on: str, income: Money, officer: str = "Sokha",
           rate: tuple[str, str] | None = None, corrects: int | None = None) -> int:
    v = record_follow_up(s, actor=ACTOR, today=TODAY, data=VisitInput(
        enrollment_id=eid, visited_on=date.fromisoformat(on), officer=officer,
        activity="not-working" if income.amount == 0 else "self-employed",
        activity_detail="" if income.amount == 0 else "own trade", income=income,
        costs=Money.zero(income.currency),
        rate=Decimal(rate[0]) if rate else None,
        rate_on=date.fromisoformat(rate[1]) if rate else None, corrects=corrects))
    assert v.id is not None
    return v.id


@pytest.fixture
def hand(session: Session) -> Set:
    """Sewing (Jan–Mar 2008): E1 asked beauty salon, completed, loan L1 never repaid; E2
    dropped; E3 completed. Pig raising (Sep–Oct 2008): E4 completed, loan L4 paid 6 of 7 dues
    on time; E5 still enrolled; E6 (a daughter) completed."""
    w = build_world(session, families=5)
    s, fam = session, w.families
    sew = _course(s, "SEW-1", "sewing", date(2008, 1, 7), date(2008, 3, 28))
    pig = _course(s, "PIG-1", "pig-raising", date(2008, 9, 1), date(2008, 10, 31))
    done_sew, done_pig = date(2008, 3, 28), date(2008, 10, 31)

    def add(key: str, course: int, family: int, on: date, **kw: object) -> None:
        e = enroll(s, actor=ACTOR, today=TODAY, data=EnrollmentInput(
            course_id=course, family_id=family, enrolled_on=on, **kw))  # type: ignore[arg-type]
        assert e.id is not None
        ids[key] = e.id

    ids: dict[str, int] = {}
    add("E1", sew, fam[0], date(2008, 1, 7), asked_skill="beauty-salon", status="completed",
        completed_on=done_sew)
    add("E2", sew, fam[1], date(2008, 1, 7), status="dropped", dropped_on=date(2008, 2, 10))
    add("E3", sew, fam[2], date(2008, 1, 7), status="completed", completed_on=done_sew)
    add("E4", pig, fam[3], date(2008, 9, 1), status="completed", completed_on=done_pig)
    add("E5", pig, fam[4], date(2008, 9, 1))
    add("E6", pig, fam[2], date(2008, 9, 1), status="completed", completed_on=done_pig,
        new_member=MemberInput("ស្រីល័ក្ខ", "Srey Leak", "F", 1991, "daughter"))

    l1 = w.loan(fam[0], 200_000, on=date(2008, 4, 2))
    l4 = w.loan(fam[3], 100_000, on=date(2008, 11, 5))
    link_loan_to_enrollment(s, actor=ACTOR, loan_id=l1, enrollment_id=ids["E1"])
    link_loan_to_enrollment(s, actor=ACTOR, loan_id=l4, enrollment_id=ids["E4"])
    loan4 = s.get(Loan, l4)
    assert loan4 is not None
    dues = load_dues(s, loan4)[:7]
    pig_on_time = sum(d.parts.total for d in dues[:6]) / sum(d.parts.total for d in dues)
    for due in dues:
        paid_on = due.due_date if due.number < 7 else date(2009, 6, 20)
        record_repayment(s, actor=ACTOR, loan_id=l4, amount=riel(int(due.parts.total)),
                         paid_on=paid_on, today=TODAY)

    _visit(s, ids["E1"], "2008-06-20", usd("37.50"), rate=("4051.5", "2008-06-18"))
    _visit(s, ids["E1"], "2008-09-15", riel(220_000))
    wrong = _visit(s, ids["E1"], "2008-12-10", riel(100_000))
    _visit(s, ids["E1"], "2008-12-10", riel(210_000), corrects=wrong)
    _visit(s, ids["E2"], "2008-03-01", riel(0))
    _visit(s, ids["E3"], "2008-06-25", usd("45"), rate=("4000", "2008-06-24"))
    _visit(s, ids["E4"], "2009-02-01", usd("60"), rate=("4100", "2009-01-30"))
    _visit(s, ids["E6"], "2009-04-15", riel(120_000), officer="Dara")
    return Set(s, w.villages, fam, ids, pig_on_time)


def test_skill_outcomes_on_the_hand_worked_set(hand: Set) -> None:
    report = skill_outcomes(hand.session, actor=ACTOR, as_of=TODAY)
    assert report.threshold == usd("50") and report.rate == Decimal("4100")
    assert report.rate_on == date(2009, 1, 30)
    pig, sewing = report.rows
    assert (sewing.skill, sewing.enrolled, sewing.in_training, sewing.completed,
            sewing.dropped) == ("sewing", 3, 0, 2, 1)
    assert (sewing.mismatched, sewing.with_loan, sewing.linked_loans) == (1, 1, 1)
    assert sewing.mismatch_share == Decimal(1) / 3
    # L1 never repaid: nothing paid on time, all its principal at risk.
    assert (sewing.par30, sewing.on_time_rate) == (Decimal(1), Decimal(0))
    # Latest incomes 210,000 (the correction), 0 and 180,000 (US$45 at 4,000).
    assert (sewing.followed_up, sewing.median_income) == (3, Money(Decimal(180_000), KHR))
    # US$50 is 205,000 at the latest rate (riel visits) and 200,000 at E3's own rate.
    assert (sewing.at_threshold, sewing.threshold_share) == (1, Decimal(1) / 3)

    assert (pig.skill, pig.enrolled, pig.in_training, pig.completed, pig.dropped) == (
        "pig-raising", 3, 1, 2, 0)
    assert (pig.mismatched, pig.with_loan, pig.linked_loans) == (0, 1, 1)
    # On-time rate on amounts, as the portfolio report computes it.
    assert (pig.par30, pig.on_time_rate) == (Decimal(0), hand.pig_on_time)
    assert Decimal("0.85") < hand.pig_on_time < Decimal("0.86")
    # 246,000 (US$60 at 4,100) and 120,000: the median of two is their mean.
    assert (pig.followed_up, pig.median_income) == (2, Money(Decimal(183_000), KHR))
    assert pig.at_threshold == 1

    dearer = skill_outcomes(hand.session, actor=ACTOR, as_of=TODAY, rate=Decimal("4300"))
    assert dearer.rows[1].at_threshold == 0  # 210,000 < US$50 at 4,300
    in_riel = skill_outcomes(hand.session, actor=ACTOR, as_of=TODAY, threshold=riel(150_000))
    assert [r.at_threshold for r in in_riel.rows] == [1, 2] and in_riel.rate is None


def test_skill_outcomes_as_of_an_earlier_day(hand: Set) -> None:
    report = skill_outcomes(hand.session, actor=ACTOR, as_of=date(2008, 7, 1))
    (sewing,) = report.rows
    assert (sewing.enrolled, sewing.completed, sewing.dropped) == (3, 2, 1)
    # Two dues of L1 had fallen by then, 60 days late: PAR, none on time.
    assert (sewing.par30, sewing.on_time_rate) == (Decimal(1), Decimal(0))
    assert sewing.median_income == Money(Decimal(151_931), KHR)
    assert sewing.at_threshold == 0
    assert report.rate == Decimal("4000") and report.rate_on == date(2008, 6, 24)


def test_follow_ups_due_and_overdue(hand: Set) -> None:
    report = follow_ups_due(hand.session, actor=ACTOR, as_of=TODAY)
    # E1 and E3's year ended (from April 2008); E2 dropped; E5 has not completed.
    assert report.followed == 2
    by_id = {r.enrollment_id: r for r in report.rows}
    late, soon = by_id[hand.enrollments["E4"]], by_id[hand.enrollments["E6"]]
    assert (late.since, late.last_visit, late.next_visit, late.days_overdue, late.officer) == (
        date(2008, 11, 5), date(2009, 2, 1), date(2009, 5, 1), 60, "Sokha")
    assert late.overdue and not soon.overdue
    assert (soon.person, soon.next_visit, soon.days_overdue, soon.officer) == (
        "ស្រីល័ក្ខ", date(2009, 7, 15), 0, "Dara")
    names = dict(hand.session.execute(sa.select(Village.id, Village.name_en)).all())
    assert {(g.name, g.due, g.overdue) for g in report.by_village} == {
        (names[hand.villages[0]], 0, 1), (names[hand.villages[2]], 1, 0)}
    assert [(g.name, g.due, g.overdue) for g in report.by_officer] == [
        ("Dara", 1, 0), ("Sokha", 0, 1)]
    # Earlier, E1 was in its year: its last visit (Dec 10) makes the next one due Mar 10.
    early = follow_ups_due(hand.session, actor=ACTOR, as_of=date(2009, 2, 20))
    e1 = next(r for r in early.rows if r.enrollment_id == hand.enrollments["E1"])
    assert (e1.next_visit, e1.days_overdue, e1.since) == (date(2009, 3, 10), 0, date(2008, 4, 2))


def test_treasurers_see_their_villages_and_readers_are_checked(hand: Set) -> None:
    code = hand.session.execute(
        sa.select(Village.code).where(Village.id == hand.villages[0])).scalar_one()
    treasurer = Actor("srey", frozenset({Role.TREASURER}), villages=frozenset({code}))
    mine = skill_outcomes(hand.session, actor=treasurer, as_of=TODAY)
    assert [(r.skill, r.enrolled) for r in mine.rows] == [("pig-raising", 1), ("sewing", 1)]
    due = follow_ups_due(hand.session, actor=treasurer, as_of=TODAY)
    assert [r.enrollment_id for r in due.rows] == [hand.enrollments["E4"]]
    nobody = Actor("guest", frozenset())
    with pytest.raises(PermissionDenied):
        skill_outcomes(hand.session, actor=nobody, as_of=TODAY)
    with pytest.raises(PermissionDenied):
        follow_ups_due(hand.session, actor=nobody, as_of=TODAY)


def test_a_dollar_threshold_needs_a_rate(session: Session) -> None:
    w = build_world(session, families=1)
    c = _course(session, "SEW-1", "sewing", date(2008, 1, 7), date(2008, 3, 28))
    e = enroll(session, actor=ACTOR, today=TODAY, data=EnrollmentInput(
        course_id=c, family_id=w.families[0], enrolled_on=date(2008, 1, 7)))
    assert e.id is not None
    _visit(session, e.id, "2008-06-20", riel(200_000))
    with pytest.raises(ServiceError) as refused:
        skill_outcomes(session, actor=ACTOR, as_of=TODAY)
    assert refused.value.field == "rate"
    ok = skill_outcomes(session, actor=ACTOR, as_of=TODAY, rate=Decimal("4000"))
    assert ok.rows[0].at_threshold == 1 and ok.rate == Decimal("4000") and ok.rate_on is None
