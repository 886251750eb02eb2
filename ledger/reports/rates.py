"""Repayment rates on amounts, as MFTransparency and SEEP define them.

On-time rate for a period = amount paid on or before its due date ÷ amount fallen due, over the
installments that fell due in the period. An installment "fell due" when the schedule it belongs
to was in force on its due date (a reschedule made before that day replaced it) and the loan was
still open that day (not closed or written off before it). The part of it paid on time is what
the payments to its schedule dated up to the due date paid on it: clamp(P(due) − C(k−1), 0,
T(k)), P(due) a correlated SUM over the covering index repayment(loan_id, paid_on, amount).

Cumulative repayment rate = amount received ÷ amount fallen due to date, per loan capped at what
fell due (prepayments are not "repayment"), over every loan disbursed by the day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.actor import Actor, Permission
from ledger.db.tables import core_table
from ledger.reports.scope import clamp, loan_filters, minor

__all__ = ["FallenDue", "cumulative_terms", "fallen_due", "on_time_rows"]


def on_time_rows(start: date, as_of: date, where: list[sa.ColumnElement[bool]]) -> sa.Subquery:
    """One row per installment that fell due in [start, as_of]: `loan_id`, `village_id`,
    `due_date`, `tot` (what fell due) and `on_time` (what was paid on or before that day)."""
    ls, si, ln, fam = (core_table(t) for t in ("loan_schedule", "schedule_installment", "loan",
                                                "family"))
    rp, rr = core_table("repayment"), core_table("repayment_reversal")
    tot = si.c.principal_minor + si.c.interest_minor + si.c.fee_minor + si.c.penalty_minor
    window: dict[str, Any] = {"partition_by": si.c.schedule_id, "order_by": si.c.number}
    inst = (
        sa.select(ls.c.loan_id, ls.c.version, ls.c.created_on, fam.c.village_id, si.c.due_date,
                  ln.c.closed_on, ln.c.written_off_on, tot.label("tot"),
                  sa.func.sum(tot).over(**window).label("cum"))
        .select_from(si.join(ls, ls.c.id == si.c.schedule_id)
                     .join(ln, ln.c.id == ls.c.loan_id).join(fam, fam.c.id == ln.c.family_id))
        .where(si.c.due_date <= as_of, ln.c.disbursed_on.is_not(None), *where)
        .cte("due_inst")
    )
    newer = ls.alias("newer")
    paid_by_due = (
        sa.select(sa.func.coalesce(sa.func.sum(rp.c.amount_minor), 0))
        .where(rp.c.loan_id == inst.c.loan_id, rp.c.paid_on <= inst.c.due_date,
               sa.or_(inst.c.version == 1, rp.c.paid_on > inst.c.created_on),
               ~sa.exists().where(rr.c.repayment_id == rp.c.id))
        .scalar_subquery()
    )
    fell = (
        sa.select(inst.c.loan_id, inst.c.village_id, inst.c.due_date, inst.c.tot, inst.c.cum,
                  paid_by_due.label("paid_by_due"))
        .where(inst.c.due_date >= start,
               ~sa.exists().where(newer.c.loan_id == inst.c.loan_id,
                                  newer.c.version > inst.c.version,
                                  newer.c.created_on < inst.c.due_date),
               sa.or_(inst.c.closed_on.is_(None), inst.c.closed_on >= inst.c.due_date),
               sa.or_(inst.c.written_off_on.is_(None), inst.c.written_off_on >= inst.c.due_date))
        .subquery("fell")
    )
    on_time = clamp(fell.c.paid_by_due - fell.c.cum + fell.c.tot, fell.c.tot)
    return (sa.select(fell.c.loan_id, fell.c.village_id, fell.c.due_date, fell.c.tot,
                      on_time.label("on_time"))
            .subquery("on_time"))


def cumulative_terms(pos: Any) -> tuple[Any, Any]:
    """(received, fallen due) per loan of `positions` for the cumulative repayment rate: what
    settled older schedules plus what the schedule in force received, capped at what fell due."""
    received = pos.c.settled + sa.case((pos.c.paid < pos.c.due_to_date, pos.c.paid),
                                       else_=pos.c.due_to_date)
    return received, pos.c.settled + pos.c.due_to_date


@dataclass(frozen=True, slots=True)
class FallenDue:
    """One installment that fell due in a period: how much, and how much was paid on time."""

    loan_id: int
    due_date: date
    due_minor: int
    on_time_minor: int


def fallen_due(session: Session, *, actor: Actor, start: date,
               as_of: date) -> tuple[FallenDue, ...]:
    """The installments behind the on-time rate of [start, as_of], for drilling into it."""
    actor.require(Permission.READ)
    rows = on_time_rows(start, as_of, loan_filters(actor))
    found = session.execute(sa.select(rows).order_by(rows.c.loan_id, rows.c.due_date)).all()
    return tuple(FallenDue(int(r.loan_id), r.due_date, minor(r.tot), minor(r.on_time))
                 for r in found)
