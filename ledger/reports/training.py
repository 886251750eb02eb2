"""Training reports as of a day: outcomes per skill, and follow-up visits due or overdue.

Counts come from SQL aggregation over the Core tables; PAR30 and the on-time rate of the loans
linked to each skill come from the portfolio report's own SQL, so they agree with it (PAR on
outstanding principal, renegotiated loans at risk; on-time rate on amounts). The median income
and the three-month visit rhythm are computed in Python over one fetched row per person.
Treasurers see only their villages.
"""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.actor import Actor, Permission
from ledger.db.tables import core_table
from ledger.money import KHR, USD, Money
from ledger.reports.portfolio import portfolio_totals
from ledger.reports.rates import on_time_rows
from ledger.reports.scope import loan_filters, ratio
from ledger.services.errors import ServiceError
from ledger.services.training_followups import riel_equivalent

__all__ = [
    "DUE_WINDOW_DAYS",
    "FOLLOW_UP_MONTHS",
    "FOLLOW_UP_YEAR_MONTHS",
    "MINIMUM_WAGE_2006",
    "FollowUpReport",
    "FollowUpRow",
    "GroupCount",
    "SkillReport",
    "SkillRow",
    "follow_ups_due",
    "skill_outcomes",
]

# The monthly minimum wage of the 2006 declaration, the default income threshold.
MINIMUM_WAGE_2006 = Money(Decimal(50), USD)
FOLLOW_UP_MONTHS = 3  # a visit at least every three months...
FOLLOW_UP_YEAR_MONTHS = 12  # ...for one year after completion (or the linked loan)
DUE_WINDOW_DAYS = 30  # "due": the next visit falls within this many days of as_of


def _add_months(day: date, months: int) -> date:
    """The same day `months` later, clipped to the month's end (31 Jan + 1 → 28/29 Feb)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _share(part: int, whole: int) -> Decimal | None:
    return None if whole == 0 else Decimal(part) / Decimal(whole)


@dataclass(frozen=True, slots=True)
class SkillRow:
    """One skill's trainees as of the report day. Shares are fractions (None when empty);
    `median_income` and the threshold count use each person's latest follow-up."""

    skill: str
    enrolled: int
    in_training: int
    completed: int
    dropped: int
    mismatched: int
    with_loan: int
    linked_loans: int
    par30: Decimal | None
    on_time_rate: Decimal | None
    followed_up: int
    median_income: Money | None
    at_threshold: int

    @property
    def mismatch_share(self) -> Decimal | None:
        """Share who asked for a different skill than the course taught."""
        return _share(self.mismatched, self.enrolled)

    @property
    def loan_share(self) -> Decimal | None:
        """Share whose enrollment a disbursed loan names."""
        return _share(self.with_loan, self.enrolled)

    @property
    def threshold_share(self) -> Decimal | None:
        """Share of the followed-up earning at least the threshold."""
        return _share(self.at_threshold, self.followed_up)


@dataclass(frozen=True, slots=True)
class SkillReport:
    """Outcomes per skill. `rate` is the riel-per-dollar rate used for visits entered in riel
    (each dollar visit uses its own stored rate); None when the threshold is in riel."""

    as_of: date
    threshold: Money
    rate: Decimal | None
    rate_on: date | None
    rows: tuple[SkillRow, ...]


@dataclass(frozen=True, slots=True)
class _Loans:
    count: int = 0
    par30: Decimal | None = None
    on_time: Decimal | None = None


def _villages(actor: Actor) -> sa.ColumnElement[bool]:
    village = core_table("village")
    if actor.villages is None:
        return sa.true()
    return village.c.code.in_(sorted(actor.villages))


def _effective_visits(as_of: date) -> sa.Subquery:
    """Visits on or before `as_of` that no correction replaced, ranked newest first."""
    v, c = core_table("follow_up_visit"), core_table("follow_up_visit").alias("c")
    rank = sa.func.row_number().over(partition_by=v.c.enrollment_id,
                                     order_by=(v.c.visited_on.desc(), v.c.id.desc()))
    return (sa.select(v, rank.label("rank"))
            .where(v.c.visited_on <= as_of,
                   ~sa.exists().where(c.c.corrects_id == v.c.id, c.c.visited_on <= as_of))
            .subquery("visits"))


def _base(as_of: date, actor: Actor) -> tuple[sa.Select[tuple[int]], sa.Table, sa.Table]:
    e, course, fam, village = (core_table(n) for n in ("enrollment", "course", "family",
                                                        "village"))
    query = (sa.select(e.c.id).join(course, course.c.id == e.c.course_id)
             .join(fam, fam.c.id == e.c.family_id).join(village, village.c.id == fam.c.village_id)
             .where(e.c.enrolled_on <= as_of, _villages(actor)))
    return query, e, course


def _loan_metrics(session: Session, as_of: date, actor: Actor, skills: Iterable[str],
                  currency: str) -> dict[str, _Loans]:
    """Per skill, the riel loans disbursed by `as_of` that name an enrollment in it: their
    number, PAR30 and on-time rate over every installment due so far, by the portfolio
    report's own SQL (`portfolio_totals`, `on_time_rows`)."""
    e, course, loan = core_table("enrollment"), core_table("course"), core_table("loan")
    out: dict[str, _Loans] = {}
    for skill in skills:
        trained = (sa.select(e.c.id).join(course, course.c.id == e.c.course_id)
                   .where(course.c.skill == skill, e.c.enrolled_on <= as_of))
        where = [*loan_filters(actor, currency=currency), loan.c.enrollment_id.in_(trained)]
        count = session.execute(
            sa.select(sa.func.count()).select_from(loan)
            .join(core_table("family"), core_table("family").c.id == loan.c.family_id)
            .where(loan.c.disbursed_on <= as_of, *where)).scalar_one()
        if not count:
            continue
        totals = portfolio_totals(session, as_of=as_of, where=where, currency=currency)
        par30 = next(p for p in totals.par if p.threshold == 30)
        rows = on_time_rows(date.min, as_of, where)
        due, on_time = session.execute(
            sa.select(sa.func.sum(rows.c.tot), sa.func.sum(rows.c.on_time))).one()
        out[skill] = _Loans(int(count), par30.rate.value, ratio(on_time, due).value)
    return out


def _latest_incomes(session: Session, as_of: date,
                    actor: Actor) -> list[tuple[str, int, str, Decimal | None]]:
    base, e, course = _base(as_of, actor)
    visits = _effective_visits(as_of)
    rows = session.execute(
        base.with_only_columns(course.c.skill, visits.c.income_minor,
                               visits.c.entered_currency, visits.c.rate)
        .join(visits, visits.c.enrollment_id == e.c.id).where(visits.c.rank == 1)
    ).all()
    return [(s, int(i), cur, None if r is None else Decimal(r)) for s, i, cur, r in rows]


def _latest_rate(session: Session, as_of: date) -> tuple[Decimal, date] | None:
    v = core_table("follow_up_visit")
    row = session.execute(
        sa.select(v.c.rate, v.c.rate_on).where(v.c.rate.is_not(None), v.c.rate_on <= as_of)
        .order_by(v.c.rate_on.desc(), v.c.id.desc()).limit(1)
    ).first()
    return None if row is None else (Decimal(row[0]), row[1])


def _median(values: list[int]) -> Money | None:
    if not values:
        return None
    ordered, mid = sorted(values), len(values) // 2
    if len(ordered) % 2:
        return Money(Decimal(ordered[mid]), KHR)
    half = (Decimal(ordered[mid - 1]) + Decimal(ordered[mid])) / 2
    return Money(half.quantize(Decimal(1), rounding=ROUND_HALF_EVEN), KHR)


def skill_outcomes(session: Session, *, actor: Actor, as_of: date,
                   threshold: Money = MINIMUM_WAGE_2006,
                   rate: Decimal | None = None) -> SkillReport:
    """Per skill: enrolled, in training, completed, dropped; mismatches; linked loans with
    their PAR30 and on-time rate; the median latest monthly income and how many earn at least
    `threshold`. A dollar threshold is converted at each visit's stored rate, or for visits
    entered in riel at `rate` (default: the latest rate stored on or before `as_of`)."""
    actor.require(Permission.READ)
    base, e, course = _base(as_of, actor)
    loan = core_table("loan")
    has_loan = sa.exists().where(loan.c.enrollment_id == e.c.id, loan.c.disbursed_on <= as_of)

    def count(cond: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)

    counts = session.execute(
        base.with_only_columns(
            course.c.skill, sa.func.count(), count(e.c.completed_on <= as_of),
            count(e.c.dropped_on <= as_of), count(e.c.asked_skill != course.c.skill),
            count(has_loan))
        .group_by(course.c.skill).order_by(course.c.skill)
    ).all()
    loans = _loan_metrics(session, as_of, actor, (row[0] for row in counts), currency="KHR")
    incomes = _latest_incomes(session, as_of, actor)
    rate_on: date | None = None
    if threshold.currency != KHR and rate is None and any(r is None for *_, r in incomes):
        found = _latest_rate(session, as_of)
        if found is None:
            raise ServiceError("no exchange rate is stored yet: give the riel rate for the "
                               "threshold", field="rate")
        rate, rate_on = found
    by_skill: dict[str, list[int]] = {}
    earning: Counter[str] = Counter()
    for skill, income, _cur, visit_rate in incomes:
        by_skill.setdefault(skill, []).append(income)
        bar = riel_equivalent(threshold, visit_rate if visit_rate is not None else rate)
        earning[skill] += income >= bar.minor
    rows = []
    for skill, enrolled, completed, dropped, mismatched, with_loan in counts:
        m = loans.get(skill, _Loans())
        rows.append(SkillRow(
            skill=skill, enrolled=int(enrolled), completed=int(completed),
            dropped=int(dropped), in_training=int(enrolled) - int(completed) - int(dropped),
            mismatched=int(mismatched), with_loan=int(with_loan), linked_loans=m.count,
            par30=m.par30, on_time_rate=m.on_time,
            followed_up=len(by_skill.get(skill, [])), median_income=_median(by_skill.get(skill,
                                                                                        [])),
            at_threshold=earning[skill]))
    return SkillReport(as_of, threshold, None if threshold.currency == KHR else rate, rate_on,
                       tuple(rows))


@dataclass(frozen=True, slots=True)
class FollowUpRow:
    """One person whose follow-up visit is due soon or overdue."""

    enrollment_id: int
    family_ref: str
    person: str
    village: str
    officer: str
    skill: str
    since: date
    last_visit: date | None
    next_visit: date
    days_overdue: int

    @property
    def overdue(self) -> bool:
        """More than three months since the last visit (or since the start)."""
        return self.days_overdue > 0


@dataclass(frozen=True, slots=True)
class GroupCount:
    """How many are due and overdue in one village or for one officer."""

    name: str
    due: int
    overdue: int


@dataclass(frozen=True, slots=True)
class FollowUpReport:
    """People in their follow-up year who need a visit, and the counts by village and
    officer. `followed` is everyone in their follow-up year as of the day."""

    as_of: date
    followed: int
    rows: tuple[FollowUpRow, ...]
    by_village: tuple[GroupCount, ...]
    by_officer: tuple[GroupCount, ...]


def _groups(rows: Iterable[FollowUpRow], key: str) -> tuple[GroupCount, ...]:
    due: Counter[str] = Counter()
    late: Counter[str] = Counter()
    for r in rows:
        (late if r.overdue else due)[getattr(r, key)] += 1
    return tuple(GroupCount(n, due[n], late[n]) for n in sorted(set(due) | set(late)))


def follow_ups_due(session: Session, *, actor: Actor, as_of: date) -> FollowUpReport:
    """Who needs a visit: everyone who completed a course, or whose enrollment a disbursed loan
    names, is visited at least every three months for a year from the later of completion and
    the first linked loan. Due = next visit within 30 days of `as_of`; overdue = more than
    three months since the last visit (or the start) while still within the year. The officer
    is the one of the last visit, else the one who entered the (linked, else latest) loan."""
    actor.require(Permission.READ)
    base, e, course = _base(as_of, actor)
    loan, fam, member, village = (core_table(n) for n in ("loan", "family", "family_member",
                                                          "village"))
    first_loan = (sa.select(sa.func.min(loan.c.disbursed_on))
                  .where(loan.c.enrollment_id == e.c.id, loan.c.disbursed_on <= as_of)
                  .scalar_subquery())
    # Never visited: the officer of the linked loan, else of the family's latest loan.
    def officer_of(which: sa.ColumnElement[bool]) -> sa.ScalarSelect[str]:
        return (sa.select(loan.c.applied_by).where(which, loan.c.disbursed_on <= as_of)
                .order_by(loan.c.disbursed_on.desc(), loan.c.id.desc()).limit(1)
                .scalar_subquery())

    loan_officer = sa.func.coalesce(officer_of(loan.c.enrollment_id == e.c.id),
                                    officer_of(loan.c.family_id == e.c.family_id))
    visits = _effective_visits(as_of)
    completed = sa.case((e.c.completed_on <= as_of, e.c.completed_on), else_=None)
    rows = session.execute(
        base.with_only_columns(
            e.c.id, fam.c.ref, sa.func.coalesce(member.c.name, fam.c.head_name),
            village.c.name_en, course.c.skill, completed, first_loan, visits.c.visited_on,
            visits.c.officer, loan_officer)
        .outerjoin(member, member.c.id == e.c.family_member_id)
        .outerjoin(visits, sa.and_(visits.c.enrollment_id == e.c.id, visits.c.rank == 1))
        .where(sa.or_(e.c.completed_on <= as_of, first_loan.is_not(None)))
        .order_by(village.c.name_en, fam.c.ref, e.c.id)
    ).all()
    out: list[FollowUpRow] = []
    followed = 0
    for eid, ref, person, vname, skill, done, lent, last, v_officer, l_officer in rows:
        since = max(d for d in (done, lent) if d is not None)
        year_ends = _add_months(since, FOLLOW_UP_YEAR_MONTHS)
        if as_of > year_ends:
            continue
        followed += 1
        anchor = max(since, last) if last is not None else since
        nxt = _add_months(anchor, FOLLOW_UP_MONTHS)
        if nxt > as_of + timedelta(DUE_WINDOW_DAYS) or nxt > year_ends:
            continue
        out.append(FollowUpRow(int(eid), ref, person, vname, v_officer or l_officer or "",
                               skill, since, last, nxt, max((as_of - nxt).days, 0)))
    return FollowUpReport(as_of, followed, tuple(out), _groups(out, "village"),
                          _groups(out, "officer"))
