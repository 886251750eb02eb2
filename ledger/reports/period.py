"""Every loan over a period [start, as_of] in one set-based query: its position at the end of
the day before the period (the opening) and at the end of `as_of`, what fell due in the period
and how much of it was paid on time, and its cumulative repayment terms.

The portfolio and villages reports aggregate these rows, so each reads the schedules and the
repayments once instead of once per measure. The arithmetic is that of `positions` (see its
module docstring for why a clamp of running totals is exact) and of `rates.on_time_rows`:

- The schedules read are those in force at some moment of [start − 1, as_of]: a version is in
  force from its start (the disbursement for version 1, its `created_on` otherwise) until the
  first later version is made (`until`). Installments fall due after their schedule starts, so
  this covers every installment that can fall due in the period.
- Window SUMs run only over the loans still open at the opening day (`live`); a loan closed or
  written off before the period needs only what fell due to date, a plain SUM.
- Standing repayments are summed once per loan; a rescheduled version owes only what was paid
  after it was made, so what was paid up to that day (`settled`) is subtracted.

One row per (loan, schedule version read); the flags say which measures a row carries:
`now_in` for the schedule in force on `as_of` (one per loan disbursed by then), `inside` when
that loan is also still in the portfolio, `open_in` for the schedule in force on the opening day
of a loan in the portfolio then.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from ledger.db.tables import core_table
from ledger.reports.scope import scope_filters

__all__ = ["period_params", "period_rows", "scoped_period_rows"]

# The dates of `scoped_period_rows`, bound at execution (see `period_params`).
_AS_OF, _START, _OPENING = (sa.bindparam(f"period_{n}", type_=sa.Date)
                            for n in ("as_of", "start", "opening"))
Day = date | sa.BindParameter[date]


def _flag(condition: Any) -> Any:
    """A condition as 0/1, so that it can be summed and compared on both databases."""
    return sa.case((condition, 1), else_=0)


def _earlier(a: Any, b: Any) -> Any:
    """The earlier of two dates, `b` when `a` is NULL (SQLite has no LEAST)."""
    return sa.case((sa.and_(a.is_not(None), a < b), a), else_=b)


def _whole(total: Any) -> Any:
    """A SUM of minor units as a BIGINT: PostgreSQL sums BIGINTs as NUMERIC, whose arithmetic
    in the per-installment expressions below is several times slower."""
    return sa.cast(total, sa.BigInteger)


def _uncovered(paid: Any, cum: Any, part: Any) -> Any:
    """How much of an installment's last `part` (its principal, or all of it) `paid` leaves
    unpaid, the installment ending at running total `cum`: clamp(cum − paid, 0, part)."""
    return sa.case((paid >= cum, 0), (paid <= cum - part, part), else_=cum - paid)


def _open_on(day: Day, closed_on: Any, written_off_on: Any) -> Any:
    """The loan is still lent out at the end of `day`."""
    return sa.and_(sa.or_(closed_on.is_(None), closed_on > day),
                   sa.or_(written_off_on.is_(None), written_off_on > day))


def _standing(rp: Any) -> Any:
    """The repayment has not been reversed (NOT IN: a hashed set on PostgreSQL, a probe of a
    temporary index on SQLite, instead of one anti-join probe per repayment)."""
    rr = core_table("repayment_reversal")
    return rp.c.id.not_in(sa.select(rr.c.repayment_id))


def _schedules(as_of: Day, opening: Day, where: list[sa.ColumnElement[bool]], *,
               live_only: bool) -> sa.CTE:
    """The schedule versions in force at some moment of [opening, as_of], with their loan
    (with `live_only`, only of loans still open at the opening day)."""
    ls, ln, fam = core_table("loan_schedule"), core_table("loan"), core_table("family")
    later, earlier, again = ls.alias("later"), ls.alias("earlier"), ls.alias("again")
    # The day each version stopped being in force: the first later version's making. Only
    # rescheduled loans have one; the IN makes SQLite start from those few (the partial index
    # of migration 0008) instead of probing with every version.
    rescheduled = sa.select(again.c.loan_id).where(again.c.version > 1)
    nx = (sa.select(earlier.c.id, sa.func.min(later.c.created_on).label("until"))
          .select_from(later.join(earlier, sa.and_(earlier.c.loan_id == later.c.loan_id,
                                                   earlier.c.version < later.c.version)))
          .where(later.c.version > 1, earlier.c.loan_id.in_(rescheduled))
          .group_by(earlier.c.id).subquery("superseded"))
    ended = sa.case(
        (sa.and_(ln.c.closed_on <= as_of, sa.or_(ln.c.written_off_on.is_(None),
                                                 ln.c.closed_on <= ln.c.written_off_on)),
         ln.c.closed_on),
        (ln.c.written_off_on <= as_of, ln.c.written_off_on), else_=as_of)
    return (
        sa.select(
            ls.c.id.label("schedule_id"), ls.c.loan_id, ls.c.version, fam.c.village_id,
            ln.c.principal_minor,
            sa.case((ls.c.version == 1, ln.c.disbursed_on), else_=ls.c.created_on)
            .label("start_on"),
            sa.case((ls.c.version > 1, ls.c.created_on)).label("new_after"),
            nx.c.until,
            _flag(_open_on(opening, ln.c.closed_on, ln.c.written_off_on)).label("live"),
            _flag(_open_on(as_of, ln.c.closed_on, ln.c.written_off_on)).label("open_now"),
            ended.label("end_on"))
        .select_from(ls.join(ln, ln.c.id == ls.c.loan_id).join(fam, fam.c.id == ln.c.family_id)
                     .outerjoin(nx, nx.c.id == ls.c.id))
        .where(ln.c.disbursed_on <= as_of, *where,
               *([_open_on(opening, ln.c.closed_on, ln.c.written_off_on)] if live_only else []),
               sa.or_(ls.c.version == 1, ls.c.created_on <= as_of),
               sa.or_(nx.c.until.is_(None), nx.c.until > opening))
        .cte("period_schedules")
    )


def _paid(base: sa.CTE, as_of: Day, opening: Day, *, narrowed: bool) -> sa.CTE:
    """Per loan: standing repayments up to `as_of` (`got`) and up to the opening day. When
    `base` is `narrowed` (some villages, or only the open loans) its loans' repayments are
    looked up; otherwise one grouped pass over every repayment is quicker than a lookup per
    loan (at 1,000,000 loans PostgreSQL turned the lookups into a nested loop), and the join
    to `base` leaves out the loans it does not hold."""
    rp = core_table("repayment")
    only = [rp.c.loan_id.in_(sa.select(base.c.loan_id))] if narrowed else []
    return (
        sa.select(rp.c.loan_id, _whole(sa.func.sum(rp.c.amount_minor)).label("got"),
                  _whole(sa.func.sum(sa.case((rp.c.paid_on <= opening, rp.c.amount_minor),
                                             else_=0))).label("got_open"))
        .where(*only, rp.c.paid_on <= as_of, _standing(rp))
        .group_by(rp.c.loan_id)
        .cte("period_paid")
    )


def _with_paid(base: sa.CTE, paid: sa.CTE, as_of: Day, opening: Day, *,
               with_done: bool) -> sa.CTE:
    """The schedules with their flags, end dates and what was paid to each."""
    rp = core_table("repayment")
    settled = sa.case((base.c.new_after.is_(None), 0), else_=(
        sa.select(_whole(sa.func.coalesce(sa.func.sum(rp.c.amount_minor), 0)))
        .where(rp.c.loan_id == base.c.loan_id, rp.c.paid_on <= base.c.new_after, _standing(rp))
        .scalar_subquery()))

    def in_force_on(day: Day) -> Any:
        return sa.and_(base.c.start_on <= day, sa.or_(base.c.until.is_(None), base.c.until > day))

    si = core_table("schedule_installment")
    # What fell due to date on a schedule of a loan closed or written off before the period: a
    # plain SUM over its index range (the live schedules get theirs from the window pass).
    done = sa.and_(base.c.live == 0, in_force_on(as_of))
    done_due = (sa.select(sa.func.sum(si.c.principal_minor + si.c.interest_minor
                                      + si.c.fee_minor + si.c.penalty_minor))
                .where(si.c.schedule_id == base.c.schedule_id, si.c.due_date <= base.c.end_on)
                .scalar_subquery())
    return (
        sa.select(base, _flag(in_force_on(as_of)).label("now_in"),
                  _flag(sa.and_(base.c.live == 1, in_force_on(opening))).label("open_in"),
                  _earlier(base.c.until, base.c.end_on).label("fell_until"),
                  sa.func.coalesce(paid.c.got, 0).label("got"),
                  sa.func.coalesce(paid.c.got_open, 0).label("got_open"),
                  settled.label("settled"),
                  (sa.case((done, done_due)) if with_done
                   else sa.cast(sa.null(), sa.BigInteger)).label("done_due"))
        .select_from(base.outerjoin(paid, paid.c.loan_id == base.c.loan_id))
        .cte("period_sched")
    )


def _live(sched: sa.CTE, as_of: Day, start: Day) -> sa.Subquery:
    """Per live schedule: positions at both ends of the period (window SUMs over its
    installments) and the period's installments with the part paid on time."""
    si, rp = core_table("schedule_installment"), core_table("repayment")
    tot = si.c.principal_minor + si.c.interest_minor + si.c.fee_minor + si.c.penalty_minor
    # Only the live schedules' installments, found through the (schedule_id, number) index;
    # the window runs over these narrow rows and the schedule's figures are joined after it.
    inst = (sa.select(si.c.schedule_id, si.c.due_date.label("due"),
                      si.c.principal_minor.label("p"), tot.label("tot"),
                      _whole(sa.func.sum(tot).over(partition_by=si.c.schedule_id,
                                                   order_by=si.c.number)).label("cum"))
            .where(si.c.schedule_id.in_(sa.select(sched.c.schedule_id)
                                        .where(sched.c.live == 1)))
            .subquery("period_inst"))
    w = (sa.select(inst, sched.c.loan_id, sched.c.new_after, sched.c.end_on,
                   sched.c.fell_until, (sched.c.got - sched.c.settled).label("pa"),
                   (sched.c.got_open - sched.c.settled).label("po"))
         .select_from(inst.join(sched, sched.c.schedule_id == inst.c.schedule_id))
         .subquery("period_rows_live"))
    due, p, cum, t, pa = w.c.due, w.c.p, w.c.cum, w.c.tot, w.c.pa
    paid_by_due = sa.func.coalesce(sa.func.sum(rp.c.amount_minor), 0)
    on_time = (sa.select(t - _uncovered(paid_by_due, cum, t))
               .where(rp.c.loan_id == w.c.loan_id, rp.c.paid_on <= due,
                      sa.or_(w.c.new_after.is_(None), rp.c.paid_on > w.c.new_after),
                      _standing(rp))
               .scalar_subquery())
    in_period = sa.and_(due >= start, due <= w.c.fell_until)
    return (
        sa.select(
            w.c.schedule_id,
            sa.func.sum(_uncovered(pa, cum, p)).label("outstanding"),
            sa.func.sum(_uncovered(w.c.po, cum, p)).label("opening"),
            sa.func.sum(sa.case((due < as_of, _uncovered(pa, cum, t)), else_=0))
            .label("overdue"),
            sa.func.min(sa.case((sa.and_(due < as_of, pa < cum, t > 0), due)))
            .label("oldest_due"),
            sa.func.sum(sa.case((due <= w.c.end_on, t), else_=0)).label("due_to_date"),
            sa.func.sum(sa.case((in_period, t), else_=0)).label("due_in_period"),
            sa.func.sum(sa.case((in_period, on_time), else_=0)).label("on_time"))
        .group_by(w.c.schedule_id)
        .subquery("period_live")
    )


def period_rows(*, as_of: Day, start: Day, where: list[sa.ColumnElement[bool]],
                include_closed: bool = True, opening: Day | None = None,
                narrowed: bool = True) -> sa.Subquery:
    """One row per loan (and schedule version) for the period [start, as_of], narrowed by
    `where` (over `loan`/`family`): see the module docstring. Without `include_closed`, only
    the loans still lent out when the period opens: those closed or written off before it
    count only in the cumulative repayment terms and in what was lent. The opening day is the
    day before `start` (give it when the dates are bind parameters). Say `narrowed=False`
    when `where` leaves most of the ledger's loans in (no village filter)."""
    if opening is None:
        if not isinstance(start, date):
            raise TypeError("give the opening day when the period's dates are bind parameters")
        opening = start - timedelta(days=1)
    base = _schedules(as_of, opening, where, live_only=not include_closed)
    paid = _paid(base, as_of, opening, narrowed=narrowed)
    sched = _with_paid(base, paid, as_of, opening, with_done=include_closed)
    live = _live(sched, as_of, start)
    return (
        sa.select(
            sched.c.loan_id, sched.c.village_id, sched.c.version, sched.c.principal_minor,
            sched.c.now_in, sched.c.open_in,
            _flag(sa.and_(sched.c.now_in == 1, sched.c.open_now == 1)).label("inside"),
            live.c.outstanding.label("outstanding_principal"),
            live.c.opening.label("opening_principal"), live.c.overdue, live.c.oldest_due,
            (sched.c.got - sched.c.settled).label("paid"), sched.c.settled,
            sa.func.coalesce(live.c.due_to_date, sched.c.done_due, 0).label("due_to_date"),
            sa.func.coalesce(live.c.due_in_period, 0).label("due_in_period"),
            sa.func.coalesce(live.c.on_time, 0).label("on_time"))
        .select_from(sched.outerjoin(live, live.c.schedule_id == sched.c.schedule_id))
        .subquery("period")
    )


def period_params(as_of: date, start: date) -> dict[str, date]:
    """The bind parameters of `scoped_period_rows` for the period [start, as_of]."""
    return {"period_as_of": as_of, "period_start": start,
            "period_opening": start - timedelta(days=1)}


@lru_cache(maxsize=64)
def _scoped(currency: str, villages: frozenset[str] | None,
            include_closed: bool) -> sa.Subquery:
    return period_rows(as_of=_AS_OF, start=_START, opening=_OPENING,
                       where=scope_filters(currency=currency, villages=villages),
                       include_closed=include_closed,
                       # Only the open loans (a fifth of a national ledger): looked up.
                       narrowed=villages is not None or not include_closed)


def scoped_period_rows(*, currency: str, villages: Iterable[str] | None,
                       include_closed: bool = True) -> sa.Subquery:
    """`period_rows` of the loans in `currency` of these villages (None: all) over the dates
    of `period_params`. Built once per scope and reused (SQLAlchemy constructs are safe to
    share between threads): building it anew takes some 10 ms of Python per report."""
    return _scoped(currency, None if villages is None else frozenset(villages), include_closed)
