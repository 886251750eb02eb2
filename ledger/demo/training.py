"""The demo's skills training, fed through the training services inside the demo's transaction.

Twelve courses in 2007–2008, most of them sewing, as the programme ran them; about two families
in three send the head or a daughter or son. Some trainees asked for beauty-salon work and were
put into sewing (they drop out more and earn less); a loan is linked to the training when the
family's business uses the skill; follow-up visits every three months or so record incomes of
US$30–75 at 4,000–4,100 riel to the dollar, and some families stop being visited.

Only `random.Random(seed)` is consulted, so the same plan gives the same trainings.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from ledger.actor import Actor
from ledger.demo.names import Sex, draw_name
from ledger.demo.records import DemoFamily, DemoLoan, DemoPlan, add_months
from ledger.money import KHR, USD, Money
from ledger.services.families import MemberInput
from ledger.services.training import (
    CourseInput,
    EnrollmentInput,
    add_course,
    enroll,
    link_loan_to_enrollment,
)
from ledger.services.training_followups import VisitInput, record_follow_up

__all__ = ["COURSES", "TrainingSummary", "build_training"]

_CENTRE = "PDoWA Svay Rieng vocational centre"
_AGRI = "Provincial Department of Agriculture"
_NGO = "IOM partner NGO"
# (ref, skill, provider, place, starts, ends, capacity, cost in riel)
_Course = tuple[str, str, str, str, date, date, int, int]
COURSES: tuple[_Course, ...] = (
    ("SEW-0701", "sewing", _CENTRE, "Svay Rieng town", date(2007, 3, 5), date(2007, 5, 25),
     25, 480_000),
    ("PIG-0701", "pig-raising", _AGRI, "Chantrea district", date(2007, 4, 2),
     date(2007, 4, 27), 20, 120_000),
    ("SEW-0702", "sewing", _CENTRE, "Svay Rieng town", date(2007, 7, 2), date(2007, 9, 21),
     25, 480_000),
    ("BEA-0701", "beauty-salon", _NGO, "Svay Rieng town", date(2007, 8, 6),
     date(2007, 10, 26), 12, 600_000),
    ("CHK-0701", "chicken-raising", _AGRI, "Romeas Haek district", date(2007, 10, 1),
     date(2007, 10, 19), 20, 100_000),
    ("SEW-0703", "sewing", _CENTRE, "Svay Rieng town", date(2007, 11, 5), date(2008, 1, 25),
     25, 480_000),
    ("MOT-0801", "motorcycle-repair", _NGO, "Bavet", date(2008, 1, 7), date(2008, 4, 25),
     12, 720_000),
    ("HAI-0801", "haircutting", _NGO, "Svay Rieng town", date(2008, 2, 4), date(2008, 4, 11),
     12, 400_000),
    ("SEW-0801", "sewing", _CENTRE, "Svay Rieng town", date(2008, 3, 3), date(2008, 5, 23),
     25, 480_000),
    ("VEG-0801", "vegetable-growing", _AGRI, "Svay Chrum district", date(2008, 5, 5),
     date(2008, 5, 30), 20, 100_000),
    ("SEW-0802", "sewing", _CENTRE, "Svay Rieng town", date(2008, 9, 1), date(2008, 11, 28),
     25, 480_000),
    ("PIG-0801", "pig-raising", _AGRI, "Chantrea district", date(2008, 10, 6),
     date(2008, 10, 31), 20, 120_000),
)
_OFFICERS = ("Chea Sokha", "Keo Dara", "Phan Chenda")
_ENROL_SHARE = 0.68
_MISMATCH_IN_SEWING = 0.22  # asked for beauty-salon work, put into sewing
_DROP = (0.08, 0.30)  # matched, mismatched
_BUSINESS_USES_SKILL = (0.75, 0.15)  # the loan's activity uses the skill: matched, mismatched
_STOP_VISITING = 0.30  # visits stop after the first one or two (or never start)
_SELF_EMPLOYED = {
    "sewing": "sewing and mending at home", "beauty-salon": "a small salon at the market",
    "haircutting": "cutting hair at home", "motorcycle-repair": "a roadside repair stand",
    "pig-raising": "raising piglets", "chicken-raising": "raising chickens",
    "vegetable-growing": "growing vegetables for the market",
}
_EMPLOYERS = {
    "sewing": "garment factory, Bavet", "beauty-salon": "salon in Svay Rieng town",
    "haircutting": "barber in Svay Rieng town", "motorcycle-repair": "repair shop, Bavet",
}


@dataclass(frozen=True, slots=True)
class TrainingSummary:
    """What the demo's training part holds."""

    courses: int
    enrollments: int
    mismatched: int
    dropped: int
    loan_links: int
    visits: int


def _usd(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randrange(low * 4, high * 4 + 1)) / 4  # quarter dollars


class _Training:
    def __init__(self, session: Session, plan: DemoPlan, actor: Actor,
                 family_ids: dict[str, int], loan_ids: dict[str, int]) -> None:
        self.s, self.plan, self.actor, self.today = session, plan, actor, plan.as_of
        self.family_ids, self.loan_ids = family_ids, loan_ids
        self.rng = random.Random(plan.seed * 1_000 + 5)
        self.course_ids: dict[str, int] = {}
        self.taken: dict[str, int] = {}
        self.loans = {loan.family_ref: loan for loan in plan.loans}
        codes = [v.code for v in plan.villages]
        self.officer = {f.ref: _OFFICERS[codes.index(f.village_code) % len(_OFFICERS)]
                        for f in plan.families}
        self.counts = {"enrollments": 0, "mismatched": 0, "dropped": 0, "links": 0,
                       "visits": 0}

    def courses(self) -> None:
        for ref, skill, provider, place, starts, ends, capacity, cost in COURSES:
            row = add_course(self.s, actor=self.actor, data=CourseInput(
                ref=ref, skill=skill, provider=provider, place=place, starts_on=starts,
                ends_on=ends, capacity=capacity, cost=Money(Decimal(cost), KHR)))
            assert row.id is not None
            self.course_ids[ref] = row.id
            self.taken[ref] = 0

    def pick_course(self, family: DemoFamily, loan: DemoLoan | None) -> _Course | None:
        """A course with a free place that starts after registration, preferring one that
        starts before the family's loan (so the loan can finance the skill)."""
        open_ = [c for c in COURSES if c[4] >= family.registered_on
                 and self.taken[c[0]] < c[6]]
        if not open_:
            return None
        before = [c for c in open_ if loan is None or c[4] <= loan.disbursed_on + timedelta(45)]
        pool = before or open_
        weights = [4 if c[1] == "sewing" else 1 for c in pool]
        return self.rng.choices(pool, weights)[0]

    def person(self, family: DemoFamily, skill: str) -> MemberInput | None:
        if self.rng.random() < 0.7:
            return None
        male = skill in ("motorcycle-repair", "pig-raising") and self.rng.random() < 0.6
        sex = Sex.MALE if male else Sex.FEMALE
        kh, latin = draw_name(self.rng, sex)
        relation = ("son" if male else "daughter") if self.rng.random() < 0.8 else "niece"
        return MemberInput(kh, latin, sex.value, family.birth_year + self.rng.randint(18, 28),
                           "nephew" if male and relation == "niece" else relation)

    def family(self, family: DemoFamily) -> None:
        rng, loan = self.rng, self.loans.get(family.ref)
        if rng.random() >= _ENROL_SHARE:
            return
        course = self.pick_course(family, loan)
        if course is None:
            return
        ref, skill, _p, _pl, starts, ends, _cap, _cost = course
        asked = skill
        if skill == "sewing" and rng.random() < _MISMATCH_IN_SEWING:
            asked = "beauty-salon"
        mismatched = asked != skill
        enrolled_on = max(family.registered_on, starts - timedelta(rng.randint(3, 21)))
        dropped = rng.random() < _DROP[mismatched]
        dropped_on = starts + timedelta(rng.randint(5, (ends - starts).days)) if dropped else None
        row = enroll(self.s, actor=self.actor, today=self.today, data=EnrollmentInput(
            course_id=self.course_ids[ref], family_id=self.family_ids[family.ref],
            enrolled_on=enrolled_on, new_member=self.person(family, skill), asked_skill=asked,
            status="dropped" if dropped else "completed",
            completed_on=None if dropped else ends, dropped_on=dropped_on))
        assert row.id is not None
        self.taken[ref] += 0 if dropped else 1
        self.counts["enrollments"] += 1
        self.counts["mismatched"] += mismatched
        self.counts["dropped"] += dropped
        linked = (not dropped and loan is not None and loan.disbursed_on >= enrolled_on
                  and rng.random() < _BUSINESS_USES_SKILL[mismatched])
        if linked:
            assert loan is not None
            link_loan_to_enrollment(self.s, actor=self.actor, loan_id=self.loan_ids[loan.ref],
                                    enrollment_id=row.id, on=loan.disbursed_on)
            self.counts["links"] += 1
        if not dropped:
            since = max(ends, loan.disbursed_on) if linked and loan is not None else ends
            self.visits(family, row.id, skill, since, mismatched)

    def visits(self, family: DemoFamily, enrollment_id: int, skill: str, since: date,
               mismatched: bool) -> None:
        rng = self.rng
        stop = rng.randint(0, 2) if rng.random() < _STOP_VISITING else 4
        base = _usd(rng, 30, 45) if mismatched else _usd(rng, 35, 60)
        kind = rng.choices(("self-employed", "employed", "not-working"), (55, 35, 10))[0]
        if kind == "employed" and skill not in _EMPLOYERS:
            kind = "self-employed"
        on = since
        for n in range(stop):
            on = on + timedelta(rng.randint(70, 95))
            if on > self.today or on > add_months(since, 12):
                break
            income = min(base + _usd(rng, 0, 5) * n, Decimal(75))
            self.visit(family, enrollment_id, skill, on, kind, income, n)

    def visit(self, family: DemoFamily, enrollment_id: int, skill: str, on: date, kind: str,
              income_usd: Decimal, n: int) -> None:
        rng = self.rng
        rate = Decimal(4000 + rng.randint(0, 20) * 5)
        # Food (US$21–30) plus housing (US$35–50), as the demo households grid holds them.
        costs_usd = _usd(rng, 56, 80)
        if kind == "not-working":
            income_usd = Decimal(0)
        detail = {"employed": _EMPLOYERS.get(skill, ""), "self-employed": _SELF_EMPLOYED[skill],
                  "not-working": ""}[kind]
        business = {"employed": "none", "not-working": "none" if n == 0 else "closed",
                    "self-employed": rng.choice(("starting", "running", "running", "growing",
                                                 "struggling"))}[kind]
        in_dollars = rng.random() < 0.6
        if in_dollars:
            income, costs = Money(income_usd, USD), Money(costs_usd, USD)
        else:  # officers who write riel round to the thousand
            income = Money((income_usd * rate / 1000).quantize(Decimal(1)) * 1000, KHR)
            costs = Money((costs_usd * rate / 1000).quantize(Decimal(1)) * 1000, KHR)
        record_follow_up(self.s, actor=self.actor, today=self.today, data=VisitInput(
            enrollment_id=enrollment_id, visited_on=on, officer=self.officer[family.ref],
            activity=kind, activity_detail=detail, income=income, costs=costs,
            rate=rate if in_dollars else None,
            rate_on=on - timedelta(rng.randint(0, 6)) if in_dollars else None,
            business_status=business))
        self.counts["visits"] += 1


def build_training(session: Session, plan: DemoPlan, *, actor: Actor,
                   family_ids: dict[str, int], loan_ids: dict[str, int]) -> TrainingSummary:
    """Add the demo's courses, enrollments, loan links and follow-up visits (after every
    family and loan exists), through the services, in the caller's transaction."""
    t = _Training(session, plan, actor, family_ids, loan_ids)
    t.courses()
    for family in plan.families:
        t.family(family)
    c = t.counts
    return TrainingSummary(len(COURSES), c["enrollments"], c["mismatched"], c["dropped"],
                           c["links"], c["visits"])
