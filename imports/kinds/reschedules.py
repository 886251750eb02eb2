"""`reschedules`: renegotiated loans, one new schedule per row, made by `reschedule_loan` on
the row's date from the loan's payments up to that day. A schedule keeps no ref:
`reschedule_ref` is kept in `import_ref` (kind "reschedules")."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa

from imports.columns import Column, ParsedRow
from imports.kinds.common import by_refs, conflict, duplicate_refs, fetch_in, post_each
from imports.preview import Checked, Context, Progress
from imports.problems import Problem
from imports.refs import known_refs, remember_ref
from ledger.db.tables import core_table
from ledger.services.reschedule import reschedule_loan

__all__ = ["COLUMNS", "REF_KIND", "ReschedulePlan", "check", "commit", "remember"]

REF_KIND = "reschedules"
COLUMNS = (
    Column("reschedule_ref", required=True, max_length=60, example="L0001-S2",
           help="The reschedule's reference: its identity, unique."),
    Column("loan_ref", required=True, max_length=40, example="L0001",
           help="The loan rescheduled (already in the ledger, active)."),
    Column("rescheduled_on", "date", required=True, example="2008-11-15",
           help="The day of the new terms; every payment after it is on the new schedule."),
    Column("repayments", "whole", required=True, minimum=1, maximum=600, example="8",
           help="Number of new installments for what is left to repay."),
    Column("first_due_on", "date", example="2008-12-15",
           help="First new due date; blank: one period after the reschedule."),
    Column("reason", required=True, max_length=500, example="House flooded in September",
           help="Why the loan was rescheduled."),
)
_COLUMN = {"on": "rescheduled_on", "loan": "loan_ref", "reason": "reason",
           "repayments": "repayments", "first_due_on": "first_due_on"}


@dataclass(frozen=True, slots=True)
class NewReschedule:
    """One reschedule to make: its file row, ref and the service's inputs."""

    row: int
    ref: str
    loan_id: int
    on: date
    repayments: int
    first_due_on: date | None
    reason: str


@dataclass(slots=True)
class ReschedulePlan:
    """The reschedules to make, in date order, and once made each ref with its schedule id."""

    items: list[NewReschedule] = field(default_factory=list)
    created: list[tuple[str, int]] = field(default_factory=list)


def _schedules(ctx: Context, loan_ids: list[int]) -> dict[int, list[tuple[int, date, int, date]]]:
    """Per loan, its reschedules: (schedule id, date, installments, first due date)."""
    ls, si = core_table("loan_schedule"), core_table("schedule_installment")
    query = (sa.select(ls.c.id, ls.c.loan_id, ls.c.created_on, sa.func.count(si.c.id),
                       sa.func.min(si.c.due_date))
             .join(si, si.c.schedule_id == ls.c.id).where(ls.c.version > 1)
             .group_by(ls.c.id, ls.c.loan_id, ls.c.created_on))
    out: dict[int, list[tuple[int, date, int, date]]] = defaultdict(list)
    for sid, lid, on, n, first in fetch_in(ctx.session, query, ls.c.loan_id, loan_ids):
        out[int(lid)].append((int(sid), on, int(n), first))
    return out


def _last_paid(ctx: Context, loan_ids: list[int]) -> dict[int, date]:
    """Per loan, the date of its latest payment that stands (not reversed)."""
    rp, rv = core_table("repayment"), core_table("repayment_reversal")
    query = (sa.select(rp.c.loan_id, sa.func.max(rp.c.paid_on))
             .where(~rp.c.id.in_(sa.select(rv.c.repayment_id))).group_by(rp.c.loan_id))
    return {int(r[0]): r[1] for r in fetch_in(ctx.session, query, rp.c.loan_id, loan_ids)}


def _row_problems(row: ParsedRow, loan: Any, last_paid: date | None, ctx: Context,
                  latest: date | None) -> list[Problem]:
    m, on = loan._mapping, row.get("rescheduled_on")
    ref, out = m["ref"], []
    if m["status"] != "active":
        out.append(Problem(row.number, "loan_ref", ref, (
            f"loan {ref} is {m['status']}: only active loans are rescheduled")))
        return out
    if not m["disbursed_on"] < on <= ctx.today:
        out.append(Problem(row.number, "rescheduled_on", on.isoformat(), (
            f"{on} must be after loan {ref} was paid out ({m['disbursed_on']}) and not in the "
            "future")))
    if last_paid is not None and last_paid > on:
        out.append(Problem(row.number, "rescheduled_on", on.isoformat(), (
            f"loan {ref} has a payment dated {last_paid}, after {on}: a reschedule is made "
            "from the payments up to its day, so import it before the later payments")))
    if latest is not None and on <= latest:
        out.append(Problem(row.number, "rescheduled_on", on.isoformat(), (
            f"loan {ref} was already rescheduled on {latest}: a new reschedule must come "
            "after it")))
    first = row.get("first_due_on")
    if first is not None and first <= on:
        out.append(Problem(row.number, "first_due_on", first.isoformat(),
                           f"the first new due date must be after {on}"))
    return out


def check(rows: list[ParsedRow], ctx: Context, present: set[str]) -> Checked:
    """Validate every reschedule: its loan, its date against the loan's payments and earlier
    reschedules, conflicts with reschedules imported before."""
    checked = Checked()
    dupes = duplicate_refs(rows, "reschedule_ref", checked)
    loans = by_refs(ctx.session, core_table("loan"),
                    [r.get("loan_ref") for r in rows if r.get("loan_ref")])
    ids = [int(x._mapping["id"]) for x in loans.values()]
    schedules, last_paid = _schedules(ctx, ids), _last_paid(ctx, ids)
    by_id = {sid: (lid, on, n, first) for lid, items in schedules.items()
             for sid, on, n, first in items}
    known = known_refs(ctx.session, REF_KIND,
                       [r.get("reschedule_ref") for r in rows if r.get("reschedule_ref")])
    plan = ReschedulePlan()
    latest = {lid: max(s[1] for s in items) for lid, items in schedules.items()}
    ordered = sorted(rows, key=lambda r: (r.get("rescheduled_on") or date.min, r.number))
    for row in ordered:
        ref = row.get("reschedule_ref")
        if ref is not None:
            checked.refs[row.number] = ref
        if not row.ok or row.number in dupes:
            continue
        loan = loans.get(row.get("loan_ref"))
        if loan is None:
            checked.problems.append(Problem(row.number, "loan_ref", row.get("loan_ref"), (
                f"loan {row.get('loan_ref')!r} is not in the ledger: import the loans file "
                "first, or correct the ref")))
            continue
        loan_id = int(loan._mapping["id"])
        if ref in known:
            stored = by_id.get(known[ref])
            first = row.get("first_due_on")
            diff = [] if stored is None else [(n, a, b) for n, a, b in (
                ("loan_ref", loan_id, stored[0]), ("rescheduled_on", row.get("rescheduled_on"),
                                                   stored[1]),
                ("repayments", row.get("repayments"), stored[2]),
                ("first_due_on", first if first is not None else stored[3], stored[3]))
                if a != b]
            if stored is None or diff:
                checked.problems.extend(conflict(row.number, "reschedule_ref", ref,
                                                 "reschedule", diff))
            else:
                checked.status[row.number] = "unchanged"
            continue
        problems = _row_problems(row, loan, last_paid.get(loan_id), ctx, latest.get(loan_id))
        if problems:
            checked.problems.extend(problems)
            continue
        latest[loan_id] = row.get("rescheduled_on")
        checked.status[row.number] = "new"
        plan.items.append(NewReschedule(row.number, ref, loan_id, row.get("rescheduled_on"),
                                        row.get("repayments"), row.get("first_due_on"),
                                        row.get("reason")))
    checked.plan = plan
    return checked


def commit(plan: ReschedulePlan, ctx: Context, progress: Progress) -> int:
    """Make every new reschedule in date order, inside the caller's transaction."""

    def post(item: Any) -> int:
        schedule = reschedule_loan(
            ctx.session, actor=ctx.actor, loan_id=item.loan_id, on=item.on, today=ctx.today,
            repayments=item.repayments, reason=item.reason, first_due_on=item.first_due_on)
        assert schedule.id is not None
        return schedule.id

    return post_each(plan.items, plan.created, ctx, progress, post, _COLUMN, "reschedule_ref")


def remember(plan: ReschedulePlan, ctx: Context, batch_id: int) -> None:
    """Keep each new reschedule's ref, so importing the file again finds it."""
    for ref, target in plan.created:
        remember_ref(ctx.session, kind=REF_KIND, ref=ref, target_id=target, batch_id=batch_id)
