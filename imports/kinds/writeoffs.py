"""`writeoffs`: loans written off elsewhere with a second person's approval, posted through
`ledger.services.historic.record_approved_write_off`.

Maker-checker: importing write-offs needs a user who may both write loans off and approve
write-offs (officer and approver roles), and every row names who proposed the write-off
(blank: the importing user) and who approved it, two different people; an approver who is a
user of this ledger must hold the approver role. A write-off keeps no ref: `writeoff_ref` is
kept in `import_ref` (kind "writeoffs")."""

from __future__ import annotations

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
from ledger.services.historic import approver_problem, record_approved_write_off

__all__ = ["COLUMNS", "REF_KIND", "WriteOffPlan", "check", "commit", "remember"]

REF_KIND = "writeoffs"
COLUMNS = (
    Column("writeoff_ref", required=True, max_length=60, example="L0001-W",
           help="The write-off's reference: its identity, unique."),
    Column("loan_ref", required=True, max_length=40, example="L0001",
           help="The loan written off (already in the ledger, active)."),
    Column("written_off_on", "date", required=True, example="2008-06-30",
           help="The day it was written off: not before the loan's last payment."),
    Column("reason", required=True, max_length=500, example="No payment for six months",
           help="Why it was written off."),
    Column("proposed_by", max_length=60, example="Chea Sokha",
           help="Who proposed the write-off; blank: the person importing."),
    Column("approved_by", required=True, max_length=60, example="Keo Dara",
           help="Who approved it: another person than the proposer; a user of this ledger "
                "named here must hold the approver role."),
)
_COLUMN = {"on": "written_off_on", "loan": "loan_ref", "reason": "reason",
           "approved_by": "approved_by"}


@dataclass(frozen=True, slots=True)
class NewWriteOff:
    """One write-off to post: its file row, ref and the service's inputs."""

    row: int
    ref: str
    loan_id: int
    on: date
    reason: str
    proposed_by: str
    approved_by: str


@dataclass(slots=True)
class WriteOffPlan:
    """The write-offs to post, in date order, and once posted each ref with its approval id."""

    items: list[NewWriteOff] = field(default_factory=list)
    created: list[tuple[str, int]] = field(default_factory=list)


def _last_paid(ctx: Context, loan_ids: list[int]) -> dict[int, date]:
    rp, rv = core_table("repayment"), core_table("repayment_reversal")
    query = (sa.select(rp.c.loan_id, sa.func.max(rp.c.paid_on))
             .where(~rp.c.id.in_(sa.select(rv.c.repayment_id))).group_by(rp.c.loan_id))
    return {int(r[0]): r[1] for r in fetch_in(ctx.session, query, rp.c.loan_id, loan_ids)}


def _stored(ctx: Context, ids: list[int]) -> dict[int, Any]:
    pa = core_table("pending_approval")
    return {int(r._mapping["id"]): r for r in fetch_in(ctx.session, sa.select(pa), pa.c.id, ids)}


def _row_problems(row: ParsedRow, loan: Any, last_paid: date | None, ctx: Context,
                  proposed_by: str) -> list[Problem]:
    m, on, ref = loan._mapping, row.get("written_off_on"), loan._mapping["ref"]
    if m["status"] == "written_off":
        return [Problem(row.number, "loan_ref", ref, (
            f"loan {ref} was already written off on {m['written_off_on']} (not by this "
            "writeoff_ref): correct the ref, or leave the row out"))]
    if m["status"] != "active":
        return [Problem(row.number, "loan_ref", ref, (
            f"loan {ref} is {m['status']}: only active loans are written off"))]
    out = []
    if not m["disbursed_on"] <= on <= ctx.today:
        out.append(Problem(row.number, "written_off_on", on.isoformat(), (
            f"{on} must be between the day loan {ref} was paid out ({m['disbursed_on']}) "
            "and today")))
    if last_paid is not None and on < last_paid:
        out.append(Problem(row.number, "written_off_on", on.isoformat(), (
            f"loan {ref} received a payment on {last_paid}, after {on}")))
    why = approver_problem(ctx.session, proposed_by=proposed_by,
                           approved_by=row.get("approved_by") or "")
    if why is not None:
        out.append(Problem(row.number, "approved_by", row.get("approved_by") or "", why))
    return out


def check(rows: list[ParsedRow], ctx: Context, present: set[str]) -> Checked:
    """Validate every write-off: its loan and date, the two people behind it, conflicts with
    write-offs imported before."""
    checked = Checked()
    dupes = duplicate_refs(rows, "writeoff_ref", checked)
    loans = by_refs(ctx.session, core_table("loan"),
                    [r.get("loan_ref") for r in rows if r.get("loan_ref")])
    last_paid = _last_paid(ctx, [int(x._mapping["id"]) for x in loans.values()])
    known = known_refs(ctx.session, REF_KIND,
                       [r.get("writeoff_ref") for r in rows if r.get("writeoff_ref")])
    stored = _stored(ctx, list(known.values()))
    plan = WriteOffPlan()
    seen: set[int] = set()
    for row in rows:
        ref = row.get("writeoff_ref")
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
        proposed_by = row.get("proposed_by") or ctx.actor.name
        if ref in known:
            m = stored[known[ref]]._mapping
            diff = [(n, a, b) for n, a, b in (
                ("loan_ref", loan_id, m["loan_id"]),
                ("written_off_on", row.get("written_off_on"), m["occurred_on"]),
                ("reason", row.get("reason"), m["reason"]),
                ("proposed_by", proposed_by, m["requested_by"]),
                ("approved_by", row.get("approved_by"), m["decided_by"])) if a != b]
            if diff:
                checked.problems.extend(conflict(row.number, "writeoff_ref", ref, "write-off",
                                                 diff))
            else:
                checked.status[row.number] = "unchanged"
            continue
        problems = _row_problems(row, loan, last_paid.get(loan_id), ctx, proposed_by)
        if loan_id in seen:
            problems.append(Problem(row.number, "loan_ref", row.get("loan_ref"),
                                    "an earlier row already writes this loan off"))
        if problems:
            checked.problems.extend(problems)
            continue
        seen.add(loan_id)
        checked.status[row.number] = "new"
        plan.items.append(NewWriteOff(row.number, ref, loan_id, row.get("written_off_on"),
                                      row.get("reason"), proposed_by, row.get("approved_by")))
    plan.items.sort(key=lambda w: (w.on, w.row))
    checked.plan = plan
    return checked


def commit(plan: WriteOffPlan, ctx: Context, progress: Progress) -> int:
    """Post every new write-off in date order, inside the caller's transaction."""

    def post(item: Any) -> int:
        approval = record_approved_write_off(
            ctx.session, actor=ctx.actor, loan_id=item.loan_id, on=item.on, today=ctx.today,
            reason=item.reason, proposed_by=item.proposed_by, approved_by=item.approved_by)
        assert approval.id is not None
        return approval.id

    return post_each(plan.items, plan.created, ctx, progress, post, _COLUMN, "writeoff_ref")


def remember(plan: WriteOffPlan, ctx: Context, batch_id: int) -> None:
    """Keep each new write-off's ref, so importing the file again finds it."""
    for ref, target in plan.created:
        remember_ref(ctx.session, kind=REF_KIND, ref=ref, target_id=target, batch_id=batch_id)
