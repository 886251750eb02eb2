"""`repayments`: money families paid, posted in one transaction through the bulk path, which
allocates them in date order exactly as if they had been entered one by one."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from imports.columns import Column, ParsedRow
from imports.kinds.common import by_refs, conflict, duplicate_refs
from imports.preview import Checked, Context, Progress
from imports.problems import Problem
from imports.refs import RowRefused
from ledger.allocation import Payment, allocate
from ledger.db.tables import core_table
from ledger.money import Money, format_amount
from ledger.services.bulk import NewRepayment, post_repayments, replay_inputs
from ledger.services.errors import ServiceError

__all__ = ["COLUMNS", "check", "commit"]

# Replay refs of the file's payments: above any repayment id, in file order.
_FILE_REF_BASE = 10**15
COLUMNS = (
    Column("payment_ref", required=True, max_length=60, example="P000001",
           help="The payment's reference (receipt number): its identity, unique."),
    Column("loan_ref", required=True, max_length=40, example="L0001",
           help="The loan paid (already in the ledger)."),
    Column("paid_on", "date", required=True, example="2008-04-15",
           help="The day the money was received."),
    Column("amount", "amount", required=True, example="15,800", help="Amount received."),
    Column("currency", "currency", choices=("KHR", "USD"), example="KHR",
           help="KHR or USD; blank: riel."),
    Column("received_by", max_length=80, example="Treasurer Chea",
           help="Who received the money; blank: the person importing."),
    Column("note", max_length=500, example="", help="Anything worth keeping, optional."),
)


def _loan_problems(row: ParsedRow, loan: Any, ctx: Context) -> list[Problem]:
    m = loan._mapping
    ref, status = m["ref"], m["status"]
    amount: Money = row.get("amount")
    paid_on = row.get("paid_on")
    out = []
    if status == "closed":
        out.append(Problem(row.number, "loan_ref", ref, (
            f"loan {ref} was closed on {m['closed_on']} (fully repaid); a payment cannot go to "
            "a closed loan: check the loan ref")))
    elif status == "written_off":
        out.append(Problem(row.number, "loan_ref", ref, (
            f"loan {ref} was written off on {m['written_off_on']}: money received on it is a "
            "recovery, not a repayment")))
    elif status != "active":
        out.append(Problem(row.number, "loan_ref", ref, (
            f"loan {ref} is {status}, not paid out yet: payments go only to active loans")))
    if amount.currency.code != m["currency"]:
        out.append(Problem(row.number, "currency", amount.currency.code, (
            f"loan {ref} is in {m['currency']}: write the amount in {m['currency']}")))
    if amount.amount <= 0:
        out.append(Problem(row.number, "amount", str(row.raw.get("amount")),
                           "a repayment must be more than zero"))
    if m["disbursed_on"] is not None and paid_on < m["disbursed_on"]:
        out.append(Problem(row.number, "paid_on", paid_on.isoformat(), (
            f"{paid_on} is before loan {ref} was paid out on {m['disbursed_on']}")))
    if paid_on > ctx.today:
        out.append(Problem(row.number, "paid_on", paid_on.isoformat(),
                           f"{paid_on} is in the future"))
    return out


def _replay(checked: Checked, loans: dict[str, Any], pending: dict[int, list[ParsedRow]],
            ctx: Context) -> None:
    """Replay each loan's new payments after its standing ones; report each one refused."""
    inputs = replay_inputs(ctx.session, list(pending))
    by_id = {int(loan._mapping["id"]): loan for loan in loans.values()}
    for loan_id, rows in pending.items():
        dues, stored = inputs[loan_id]
        ref, cur = by_id[loan_id]._mapping["ref"], by_id[loan_id]._mapping["currency"]
        new = [Payment(_FILE_REF_BASE + r.number, r.get("paid_on"), r.get("amount").amount)
               for r in rows]
        state = allocate(dues, [*stored, *new], strict=False)
        row_of = {_FILE_REF_BASE + r.number: r for r in rows}
        for refusal in state.refused:
            row = row_of.get(int(refusal.payment.ref))
            if row is None:
                continue
            checked.status.pop(row.number, None)
            owed = format_amount(refusal.payoff, cur)
            checked.problems.append(Problem(row.number, "amount", str(row.get("amount")), (
                f"loan {ref} is already fully repaid by {row.get('paid_on')}: this payment "
                "is not owed" if refusal.payoff == 0 else
                f"{row.get('amount')} is more than the {owed} loan {ref} owes on "
                f"{row.get('paid_on')} (its payoff amount): check the amount and the date")))
        stored_refused = sum(1 for r in state.refused if int(r.payment.ref) not in row_of)
        # Replaying the standing payments alone is needed only when one of them is refused.
        if stored_refused and stored_refused > len(allocate(dues, stored, strict=False).refused):
            first = min(rows, key=lambda r: (r.get("paid_on"), r.number))
            checked.status.pop(first.number, None)
            checked.problems.append(Problem(first.number, "paid_on", str(first.get("paid_on")), (
                f"payments dated this early would leave later payments already recorded on "
                f"loan {ref} above what it owes: check the dates")))


def check(rows: list[ParsedRow], ctx: Context, present: set[str]) -> Checked:
    """Validate every payment: its loan, date, currency, conflicts, and that it is owed."""
    checked = Checked()
    dupes = duplicate_refs(rows, "payment_ref", checked)
    loans = by_refs(ctx.session, core_table("loan"),
                    [r.get("loan_ref") for r in rows if r.get("loan_ref")])
    stored = by_refs(ctx.session, core_table("repayment"),
                     [r.get("payment_ref") for r in rows if r.get("payment_ref")])
    pending: dict[int, list[ParsedRow]] = defaultdict(list)
    for row in rows:
        ref = row.get("payment_ref")
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
        amount: Money = row.get("amount")
        if ref in stored:
            m = stored[ref]._mapping
            diff = [(n, a, b) for n, a, b in (
                ("loan_ref", int(loan._mapping["id"]), m["loan_id"]),
                ("paid_on", row.get("paid_on"), m["paid_on"]),
                ("amount", amount.minor, m["amount_minor"]),
                ("currency", amount.currency.code, m["currency"])) if a != b]
            if diff:
                checked.problems.extend(conflict(row.number, "payment_ref", ref, "payment",
                                                 diff))
            else:
                checked.status[row.number] = "unchanged"
            continue
        problems = _loan_problems(row, loan, ctx)
        if problems:
            checked.problems.extend(problems)
            continue
        checked.status[row.number] = "new"
        pending[int(loan._mapping["id"])].append(row)
    _replay(checked, loans, pending, ctx)
    kept = sorted(((r.number, lid, r) for lid, rs in pending.items() for r in rs
                   if r.number in checked.status), key=lambda t: t[0])
    checked.plan = [NewRepayment(lid, r.get("paid_on"), r.get("amount"), r.get("payment_ref"),
                                 r.get("received_by"), r.get("note") or "")
                    for _, lid, r in kept]  # file order: ties on a date keep it
    return checked


def commit(plan: list[NewRepayment], ctx: Context, progress: Progress) -> int:
    """Post every new payment in one bulk transaction (date order, then file order)."""
    try:
        post_repayments(ctx.session, actor=ctx.actor, payments=plan, today=ctx.today,
                        progress=progress)
    except ServiceError as exc:
        raise RowRefused(None, exc.field or "amount", "", exc.message) from exc
    return len(plan)
