"""`recoveries`: money received on written-off loans, one per row, posted by `record_recovery`
(cash debit, recoveries income credit). A recovery keeps no ref: `recovery_ref` is kept in
`import_ref` (kind "recoveries") pointing at its journal entry."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from imports.columns import Column, ParsedRow
from imports.kinds.common import by_refs, conflict, duplicate_refs, fetch_in, post_each
from imports.preview import Checked, Context, Progress
from imports.problems import Problem
from imports.refs import known_refs, remember_ref
from ledger.accounts import AccountRole
from ledger.db.tables import core_table
from ledger.money import Money, format_amount
from ledger.services.loan_book import get_loan
from ledger.services.writeoffs import record_recovery, recoverable

__all__ = ["COLUMNS", "REF_KIND", "RecoveryPlan", "check", "commit", "remember"]

REF_KIND = "recoveries"
COLUMNS = (
    Column("recovery_ref", required=True, max_length=60, example="L0001-RC1",
           help="The recovery's reference (receipt number): its identity, unique."),
    Column("loan_ref", required=True, max_length=40, example="L0001",
           help="The written-off loan the money is for (already written off in the ledger)."),
    Column("recovered_on", "date", required=True, example="2009-02-10",
           help="The day the money was received: not before the write-off."),
    Column("amount", "amount", required=True, example="20,000", help="Amount received."),
    Column("currency", "currency", choices=("KHR", "USD"), example="KHR",
           help="KHR or USD; blank: riel."),
    Column("note", max_length=500, example="", help="Anything worth keeping, optional."),
)
_COLUMN = {"on": "recovered_on", "amount": "amount", "loan": "loan_ref"}


@dataclass(frozen=True, slots=True)
class NewRecovery:
    """One recovery to post: its file row, ref and the service's inputs."""

    row: int
    ref: str
    loan_id: int
    on: date
    amount: Money
    note: str


@dataclass(slots=True)
class RecoveryPlan:
    """The recoveries to post, in date order, and once posted each ref with its entry id."""

    items: list[NewRecovery] = field(default_factory=list)
    created: list[tuple[str, int]] = field(default_factory=list)


def _stored(ctx: Context, entry_ids: list[int]) -> dict[int, tuple[int | None, date, int]]:
    """entry id → (loan id, date, amount received in minor units) of recoveries."""
    je, post, acct = core_table("journal_entry"), core_table("posting"), core_table("account")
    query = (sa.select(je.c.id, je.c.loan_id, je.c.occurred_on, post.c.amount_minor)
             .join(post, post.c.entry_id == je.c.id).join(acct, acct.c.id == post.c.account_id)
             .where(acct.c.role == AccountRole.RECOVERIES_INCOME.value))
    return {int(r[0]): (r[1], r[2], -int(r[3])) for r in fetch_in(ctx.session, query, je.c.id,
                                                                   entry_ids)}


def _row_problems(row: ParsedRow, loan: Any, ctx: Context) -> list[Problem]:
    m, on, ref = loan._mapping, row.get("recovered_on"), loan._mapping["ref"]
    amount: Money = row.get("amount")
    if m["status"] != "written_off" or m["written_off_on"] is None:
        return [Problem(row.number, "loan_ref", ref, (
            f"loan {ref} is {m['status']}, not written off: money received on it is a "
            "repayment, not a recovery"))]
    out = []
    if not m["written_off_on"] <= on <= ctx.today:
        out.append(Problem(row.number, "recovered_on", on.isoformat(), (
            f"{on} must be between the write-off of loan {ref} ({m['written_off_on']}) and "
            "today")))
    if amount.currency.code != m["currency"]:
        out.append(Problem(row.number, "currency", amount.currency.code,
                           f"loan {ref} is in {m['currency']}: write the amount in it"))
    elif amount.amount <= 0:
        out.append(Problem(row.number, "amount", str(amount), "a recovery must be more than 0"))
    return out


def check(rows: list[ParsedRow], ctx: Context, present: set[str]) -> Checked:
    """Validate every recovery: a written-off loan, its date, not more than is still owed
    (counting the file's earlier rows), conflicts with recoveries imported before."""
    checked = Checked()
    dupes = duplicate_refs(rows, "recovery_ref", checked)
    loans = by_refs(ctx.session, core_table("loan"),
                    [r.get("loan_ref") for r in rows if r.get("loan_ref")])
    known = known_refs(ctx.session, REF_KIND,
                       [r.get("recovery_ref") for r in rows if r.get("recovery_ref")])
    stored = _stored(ctx, list(known.values()))
    plan = RecoveryPlan()
    taken: dict[int, Decimal] = defaultdict(Decimal)
    left: dict[int, Money] = {}
    for row in sorted(rows, key=lambda r: (r.get("recovered_on") or date.min, r.number)):
        ref = row.get("recovery_ref")
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
        loan_id, amount = int(loan._mapping["id"]), row.get("amount")
        if ref in known:
            have = stored.get(known[ref])
            diff = [] if have is None else [(n, a, b) for n, a, b in (
                ("loan_ref", loan_id, have[0]), ("recovered_on", row.get("recovered_on"),
                                                 have[1]),
                ("amount", amount.minor, have[2])) if a != b]
            if have is None or diff:
                checked.problems.extend(conflict(row.number, "recovery_ref", ref, "recovery",
                                                 diff))
            else:
                checked.status[row.number] = "unchanged"
            continue
        problems = _row_problems(row, loan, ctx)
        if not problems:
            if loan_id not in left:
                left[loan_id] = recoverable(ctx.session, get_loan(ctx.session, loan_id))
            taken[loan_id] += amount.amount
            if taken[loan_id] > left[loan_id].amount:
                owed = format_amount(left[loan_id].amount - taken[loan_id] + amount.amount,
                                     amount.currency)
                problems.append(Problem(row.number, "amount", str(amount), (
                    f"{amount} is more than the {owed} still owed on loan "
                    f"{row.get('loan_ref')} after the file's earlier recoveries")))
                taken[loan_id] -= amount.amount
        if problems:
            checked.problems.extend(problems)
            continue
        checked.status[row.number] = "new"
        plan.items.append(NewRecovery(row.number, ref, loan_id, row.get("recovered_on"), amount,
                                      row.get("note") or ""))
    checked.plan = plan
    return checked


def commit(plan: RecoveryPlan, ctx: Context, progress: Progress) -> int:
    """Post every new recovery in date order, inside the caller's transaction."""

    def post(item: Any) -> int:
        return record_recovery(ctx.session, actor=ctx.actor, loan_id=item.loan_id,
                               amount=item.amount, on=item.on, today=ctx.today, note=item.note)

    return post_each(plan.items, plan.created, ctx, progress, post, _COLUMN, "recovery_ref")


def remember(plan: RecoveryPlan, ctx: Context, batch_id: int) -> None:
    """Keep each new recovery's ref, so importing the file again finds it."""
    for ref, target in plan.created:
        remember_ref(ctx.session, kind=REF_KIND, ref=ref, target_id=target, batch_id=batch_id)
