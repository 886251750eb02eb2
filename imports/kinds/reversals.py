"""`reversals`: repayments reversed, one per row, posted through
`ledger.services.historic.record_historic_reversal` (the payment's entry negated, later
payments re-allocated, a loan the payment had closed opened again).

A repayment is reversed at most once, so the row's identity is the `payment_ref` it reverses.
Maker-checker: a reversal more than the ledger's limit of days after its payment (the measure
of `reverse_repayment`) names who approved it, another person than who reversed it, and then
needs an importing user who may approve reversals; a younger one needs one person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa

from imports.columns import Column, ParsedRow
from imports.kinds.common import by_refs, conflict, duplicate_refs, fetch_in
from imports.preview import Checked, Context, Progress
from imports.problems import Problem
from imports.refs import RowRefused
from ledger.actor import Permission
from ledger.db.tables import Repayment, core_table
from ledger.services.errors import ServiceError
from ledger.services.historic import (
    approver_problem,
    record_historic_reversal,
    reversal_needs_approver,
)
from ledger.services.unit import use_case

__all__ = ["COLUMNS", "ReversalPlan", "check", "commit", "stored_reversals"]

COLUMNS = (
    Column("payment_ref", required=True, max_length=60, example="P000001",
           help="The payment reversed (already in the ledger): the row's identity, unique."),
    Column("reversed_on", "date", required=True, example="2008-04-18",
           help="The day it was reversed: not before the payment."),
    Column("reason", required=True, max_length=500, example="Cheque refused by the bank",
           help="Why it was reversed."),
    Column("reversed_by", max_length=60, example="Chea Sokha",
           help="Who reversed it (with approved_by: who proposed it); blank: the person "
                "importing."),
    Column("approved_by", max_length=60, example="",
           help="Who approved it: required when it is more days after the payment than the "
                "ledger's limit (7 unless changed); another person than reversed_by."),
)
_COLUMN = {"on": "reversed_on", "reason": "reason", "approved_by": "approved_by",
           "repayment": "payment_ref", "loan": "payment_ref"}
_PROPOSED = " (proposed by "


@dataclass(frozen=True, slots=True)
class NewReversal:
    """One reversal to post: its file row, ref and the service's inputs."""

    row: int
    ref: str
    repayment_id: int
    on: date
    reason: str
    reversed_by: str
    approved_by: str


@dataclass(slots=True)
class ReversalPlan:
    """The reversals to post, in date order (then file order)."""

    items: list[NewReversal] = field(default_factory=list)


def split_reason(reason: str, reversed_by: str) -> tuple[str, str]:
    """A stored reason and reverser as the file writes them: a reason ending in
    `(proposed by NAME)` was reversed by NAME (the importing user posted it)."""
    if reason.endswith(")") and _PROPOSED in reason:
        head, name = reason[:-1].rsplit(_PROPOSED, 1)
        if name.strip():
            return head, name
    return reason, reversed_by


def stored_reversals(session: Any, repayment_ids: list[int]) -> dict[int, dict[str, Any]]:
    """repayment id → the reversal as a file row writes it: reversed_on, reason, reversed_by,
    approved_by (from its approval row when a second person approved it)."""
    rv, je, pa = (core_table("repayment_reversal"), core_table("journal_entry"),
                  core_table("pending_approval"))
    query = (sa.select(rv.c.repayment_id, je.c.occurred_on, rv.c.reason, rv.c.reversed_by)
             .join(je, je.c.id == rv.c.entry_id))
    approvals = {int(r[0]): (str(r[1]), str(r[2]), str(r[3])) for r in map(tuple, fetch_in(
        session, sa.select(pa.c.subject_id, pa.c.reason, pa.c.requested_by, pa.c.decided_by)
        .where(pa.c.kind == "reversal", pa.c.decision == "approved"), pa.c.subject_id,
        repayment_ids))}
    out: dict[int, dict[str, Any]] = {}
    for rid, on, reason, by in map(tuple, fetch_in(session, query, rv.c.repayment_id,
                                                   repayment_ids)):
        approval = approvals.get(int(rid))
        if approval is not None:
            text, who, approver = approval
        else:
            (text, who), approver = split_reason(str(reason), str(by)), ""
        out[int(rid)] = {"reversed_on": on, "reason": text, "reversed_by": who,
                         "approved_by": approver}
    return out


def _row_problems(row: ParsedRow, payment: Any, loan: Any, ctx: Context,
                  rescheduled: date | None) -> list[Problem]:
    m, on, ref = payment._mapping, row.get("reversed_on"), row.get("payment_ref")
    lref = loan._mapping["ref"]
    out = []
    if loan._mapping["status"] == "written_off":
        out.append(Problem(row.number, "payment_ref", ref, (
            f"loan {lref} was written off on {loan._mapping['written_off_on']}: its "
            "repayments stand")))
    if rescheduled is not None and m["paid_on"] <= rescheduled:
        out.append(Problem(row.number, "payment_ref", ref, (
            f"loan {lref} was rescheduled on {rescheduled} on the strength of this payment "
            f"of {m['paid_on']}: it cannot be reversed now")))
    if not m["paid_on"] <= on <= ctx.today:
        out.append(Problem(row.number, "reversed_on", on.isoformat(), (
            f"{on} must be between the payment ({m['paid_on']}) and today")))
    by = row.get("reversed_by") or ctx.actor.name
    approved_by = row.get("approved_by") or ""
    if approved_by:
        if not ctx.actor.can(Permission.APPROVE_REVERSALS):
            out.append(Problem(row.number, "approved_by", approved_by, (
                f"{ctx.actor.name} may not approve reversals: an approved reversal is "
                "imported by a user who holds the approver role")))
        why = approver_problem(ctx.session, proposed_by=by, approved_by=approved_by,
                               permission=Permission.APPROVE_REVERSALS)
        if why is not None:
            out.append(Problem(row.number, "approved_by", approved_by, why))
    else:
        repayment = ctx.session.get(Repayment, int(m["id"]))
        assert repayment is not None
        limit = reversal_needs_approver(ctx.session, actor=ctx.actor, repayment=repayment,
                                        on=on)
        if limit is not None:
            out.append(Problem(row.number, "approved_by", "", (
                f"the payment of {m['paid_on']} is reversed on {on}, more than this "
                f"ledger's {limit} days later: name who approved the reversal (a person "
                "other than reversed_by)")))
    return out


def _rescheduled(ctx: Context, loan_ids: list[int]) -> dict[int, date]:
    ls = core_table("loan_schedule")
    query = (sa.select(ls.c.loan_id, sa.func.max(ls.c.created_on)).where(ls.c.version > 1)
             .group_by(ls.c.loan_id))
    return {int(r[0]): r[1] for r in map(tuple, fetch_in(ctx.session, query, ls.c.loan_id,
                                                          loan_ids))}


def _same(row: ParsedRow, have: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """The columns where the file differs from the reversal stored; a blank reversed_by is
    whoever imported it, so it is not compared."""
    mine = {"reversed_on": row.get("reversed_on"), "reason": row.get("reason"),
            "reversed_by": row.get("reversed_by"), "approved_by": row.get("approved_by") or ""}
    return [(n, v, have[n]) for n, v in mine.items()
            if v != have[n] and not (n == "reversed_by" and v is None)]


def check(rows: list[ParsedRow], ctx: Context, present: set[str]) -> Checked:
    """Validate every reversal: its payment, date and loan, the people behind it, and
    conflicts with reversals already in the ledger."""
    checked = Checked()
    dupes = duplicate_refs(rows, "payment_ref", checked)
    payments = by_refs(ctx.session, core_table("repayment"),
                       [r.get("payment_ref") for r in rows if r.get("payment_ref")])
    loan_ids = sorted({int(p._mapping["loan_id"]) for p in payments.values()})
    ln = core_table("loan")
    loans = {int(r._mapping["id"]): r for r in fetch_in(ctx.session, sa.select(ln), ln.c.id,
                                                          loan_ids)}
    rescheduled = _rescheduled(ctx, loan_ids)
    stored = stored_reversals(ctx.session, [int(p._mapping["id"]) for p in payments.values()])
    plan = ReversalPlan()
    for row in rows:
        ref = row.get("payment_ref")
        if ref is not None:
            checked.refs[row.number] = ref
        if not row.ok or row.number in dupes:
            continue
        payment = payments.get(ref)
        if payment is None:
            checked.problems.append(Problem(row.number, "payment_ref", ref, (
                f"payment {ref!r} is not in the ledger: import the repayments file first, or "
                "correct the ref")))
            continue
        pid = int(payment._mapping["id"])
        if pid in stored:
            diff = _same(row, stored[pid])
            if diff:
                checked.problems.extend(conflict(row.number, "payment_ref", ref,
                                                 "the reversal of payment", diff))
            else:
                checked.status[row.number] = "unchanged"
            continue
        loan = loans[int(payment._mapping["loan_id"])]
        problems = _row_problems(row, payment, loan, ctx, rescheduled.get(int(loan._mapping["id"])))
        if problems:
            checked.problems.extend(problems)
            continue
        checked.status[row.number] = "new"
        plan.items.append(NewReversal(row.number, ref, pid, row.get("reversed_on"),
                                      row.get("reason"), row.get("reversed_by") or "",
                                      row.get("approved_by") or ""))
    plan.items.sort(key=lambda r: (r.on, r.row))
    checked.plan = plan
    return checked


def commit(plan: ReversalPlan, ctx: Context, progress: Progress) -> int:
    """Post every new reversal in date order, inside the caller's transaction."""
    with use_case(ctx.session):
        for done, item in enumerate(plan.items, start=1):
            try:
                record_historic_reversal(
                    ctx.session, actor=ctx.actor, repayment_id=item.repayment_id, on=item.on,
                    today=ctx.today, reason=item.reason, reversed_by=item.reversed_by,
                    approved_by=item.approved_by)
            except ServiceError as exc:
                column = _COLUMN.get(exc.field or "", "payment_ref")
                raise RowRefused(item.row, column, item.ref, exc.message) from exc
            progress(done, len(plan.items))
    return len(plan.items)
