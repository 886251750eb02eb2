"""Every loan's position "as of" a day, as one set-based SQL query (no replay in Python).

Why this is exact. With the default allocation order (each installment, oldest first: penalty,
fee, interest, principal) a payment fills the schedule in force from the front, so what the
standing payments paid on installment k is clamp(P − C(k−1), 0, T(k)), where P is their sum
and C the running total of the schedule's installments (a window SUM). For a rescheduled loan the
payments up to the reschedule exactly settle the old schedule's paid parts, so only payments
dated after it fill the new one. A payment equal to the payoff closes the loan and forgives the
rest: a loan closed on or before the day owes nothing. The pure replay (`ledger.allocation`,
`ledger.arrears`) is the oracle the tests hold this to.

The schedule in force on a day is the newest version made on or before it (the first version
from the disbursement), so a report for a day before a reschedule shows the old schedule.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from ledger.db.tables import core_table
from ledger.reports.scope import clamp, sqlite_hint

__all__ = ["BIG", "in_force", "installments", "paid_to_schedule", "positions"]

# Added to what a closed loan paid, so every installment reads as paid (far above any ledger).
BIG = 10**15


def in_force(as_of: date, where: list[sa.ColumnElement[bool]]) -> sa.CTE:
    """Per loan disbursed by `as_of` and allowed by `where` (over `loan`/`family`): the schedule
    in force that day, with the loan's dates and place."""
    ls, ln, fam = core_table("loan_schedule"), core_table("loan"), core_table("family")
    newer = ls.alias("newer")
    started = sa.or_(sa.and_(ls.c.version == 1, ln.c.disbursed_on <= as_of),
                     sa.and_(ls.c.version > 1, ls.c.created_on <= as_of))
    return (
        sa.select(ls.c.loan_id, ls.c.id.label("schedule_id"), ls.c.version, ls.c.created_on,
                  ln.c.family_id, fam.c.village_id, ln.c.principal_minor, ln.c.disbursed_on,
                  ln.c.closed_on, ln.c.written_off_on)
        .select_from(ls.join(ln, ln.c.id == ls.c.loan_id).join(fam, fam.c.id == ln.c.family_id))
        .where(started, ln.c.disbursed_on.is_not(None), *where,
               ~sa.exists().where(newer.c.loan_id == ls.c.loan_id,
                                  newer.c.version > ls.c.version, newer.c.created_on <= as_of))
        .cte("in_force")
    )


def paid_to_schedule(as_of: date, f: sa.CTE) -> sa.CTE:
    """Per loan: `paid`, the standing repayments up to `as_of` that fill the schedule in force,
    and `settled`, those dated up to its reschedule (they settled the older schedules)."""
    rp, rr = core_table("repayment"), core_table("repayment_reversal")
    new = sa.or_(f.c.version == 1, rp.c.paid_on > f.c.created_on)
    return (
        sa.select(f.c.loan_id,
                  sa.func.sum(sa.case((new, rp.c.amount_minor), else_=0)).label("paid"),
                  sa.func.sum(sa.case((new, 0), else_=rp.c.amount_minor)).label("settled"))
        .select_from(f.join(rp, rp.c.loan_id == f.c.loan_id))
        .where(rp.c.paid_on <= as_of, ~sa.exists().where(rr.c.repayment_id == rp.c.id))
        .group_by(f.c.loan_id)
        .cte("paid")
    )


def installments(f: sa.CTE, paid: sa.CTE, as_of: date, *, detail: bool = False
                 ) -> sa.Subquery:
    """The installments of each schedule in force with running totals (window SUMs) and what
    fills them: `pe`, the loan's payments (plus `BIG` once it is closed)."""
    si = core_table("schedule_installment")
    pf = si.c.fee_minor + si.c.penalty_minor
    tot = si.c.principal_minor + si.c.interest_minor + pf
    window: dict[str, Any] = {"partition_by": si.c.schedule_id, "order_by": si.c.number}
    closed = sa.and_(f.c.closed_on.is_not(None), f.c.closed_on <= as_of)
    pe = sa.func.coalesce(paid.c.paid, 0) + sa.case((closed, BIG), else_=0)
    cols: list[Any] = [f.c.loan_id, si.c.number, si.c.due_date,
                       si.c.principal_minor.label("p"), si.c.interest_minor.label("i"),
                       pf.label("pf"), tot.label("tot"), pe.label("pe"), f.c.closed_on,
                       f.c.written_off_on,
                       sa.func.sum(tot).over(**window).label("cum")]
    if detail:
        cols += [sa.func.sum(si.c.interest_minor).over(**window).label("ci"),
                 sa.func.sum(pf).over(**window).label("cpf")]
    # Without the IN, SQLite scans every installment of the ledger for one loan or village.
    return (sa.select(*cols)
            .select_from(f.join(si, si.c.schedule_id == f.c.schedule_id)
                         .outerjoin(paid, paid.c.loan_id == f.c.loan_id))
            .where(sqlite_hint(si.c.schedule_id.in_(sa.select(f.c.schedule_id))))
            .subquery("inst"))


def positions(as_of: date, where: list[sa.ColumnElement[bool]], *,
              detail: bool = False) -> sa.Subquery:
    """One row per loan disbursed by `as_of`: its schedule version, dates, what it paid, and
    its outstanding principal, interest due, overdue amount and oldest unpaid due date
    (`oldest_due`, None when nothing is overdue). `due_to_date` is what fell due up to the day
    (or up to its closing or write-off), for the cumulative repayment rate. With `detail`, the
    columns `loan_status` needs for the next installment and the payoff amount."""
    f = in_force(as_of, where)
    paid = paid_to_schedule(as_of, f)
    inst = installments(f, paid, as_of, detail=detail)
    p_eff = inst.c.pe
    due, tot, cum = inst.c.due_date, inst.c.tot, inst.c.cum
    out = tot - clamp(p_eff - cum + tot, tot)
    out_p = inst.c.p - clamp(p_eff - cum + inst.c.p, inst.c.p)
    out_i = inst.c.i - clamp(p_eff - cum + inst.c.p + inst.c.i, inst.c.i)
    unpaid = sa.and_(p_eff < cum, tot > 0)
    ended = sa.and_(
        due <= as_of,
        sa.or_(inst.c.closed_on.is_(None), due <= inst.c.closed_on),
        sa.or_(inst.c.written_off_on.is_(None), due <= inst.c.written_off_on))
    cols: list[Any] = [
        inst.c.loan_id,
        sa.func.sum(out_p).label("outstanding_principal"),
        sa.func.sum(sa.case((due <= as_of, out_i), else_=0)).label("interest_due"),
        sa.func.sum(sa.case((due < as_of, out), else_=0)).label("overdue"),
        sa.func.min(sa.case((sa.and_(due < as_of, unpaid), due))).label("oldest_due"),
        sa.func.sum(sa.case((ended, tot), else_=0)).label("due_to_date"),
    ]
    if detail:
        nxt = sa.and_(due >= as_of, unpaid)
        after = due > as_of
        cols += [
            sa.func.min(sa.case((nxt, due))).label("next_due"),
            sa.func.min(sa.case((nxt, cum))).label("next_cum"),
            sa.func.min(sa.case((nxt, cum - tot))).label("next_before"),
            sa.func.max(sa.case((due == as_of, 1), else_=0)).label("has_today"),
            sa.func.sum(sa.case((due <= as_of, out), else_=out_p)).label("payoff_base"),
            # The first installment after the day, read back from running totals: every
            # running total is non-decreasing, so MIN over "after" rows is its own value.
            sa.func.min(sa.case((after, cum - tot))).label("after_before"),
            sa.func.min(sa.case((after, inst.c.ci))).label("after_ci"),
            sa.func.min(sa.case((after, inst.c.ci - inst.c.i))).label("after_ci0"),
            sa.func.min(sa.case((after, inst.c.cpf))).label("after_cpf"),
            sa.func.min(sa.case((after, inst.c.cpf - inst.c.pf))).label("after_cpf0"),
        ]
    agg = sa.select(*cols).group_by(inst.c.loan_id).subquery("agg")
    return (
        sa.select(f.c.loan_id, f.c.family_id, f.c.village_id, f.c.version, f.c.principal_minor,
                  f.c.disbursed_on, f.c.closed_on, f.c.written_off_on,
                  sa.func.coalesce(paid.c.paid, 0).label("paid"),
                  sa.func.coalesce(paid.c.settled, 0).label("settled"),
                  *(c for c in agg.c if c.name != "loan_id"))
        .select_from(f.join(agg, agg.c.loan_id == f.c.loan_id)
                     .outerjoin(paid, paid.c.loan_id == f.c.loan_id))
        .subquery("positions")
    )
