"""`repayments`: money families paid, posted in one transaction through the bulk path, which
allocates them in date order exactly as if they had been entered one by one."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from imports.beside import Beside
from imports.columns import Column, ParsedRow, ParsedTable
from imports.kinds.common import by_refs, conflict, duplicate_refs
from imports.preview import Checked, Context, Progress, made_many
from imports.problems import Problem
from imports.refs import RowRefused
from ledger.allocation import Payment, Refusal, Replay, allocate
from ledger.db.tables import core_table
from ledger.money import Money, format_amount
from ledger.services.bulk import NewRepayment, post_repayments, replay_inputs
from ledger.services.errors import ServiceError
from ledger.services.import_checks import (
    loans_by_ref,
    principal_room,
    repayments_by_ref,
    room_left,
    standing_paid_by_ref,
)
from ledger.services.loan_book import last_reschedules

__all__ = ["COLUMNS", "check", "check_table", "commit"]

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


def _refused(checked: Checked, row: ParsedRow, ref: str, cur: str, payoff: Any) -> None:
    checked.status.pop(row.number, None)
    values = row.values
    amount, paid_on = values["amount"], values["paid_on"]
    checked.problems.append(Problem(row.number, "amount", str(amount), (
        f"loan {ref} is already fully repaid by {paid_on}: this payment is not owed"
        if payoff == 0 else
        f"{amount} is more than the {format_amount(payoff, cur)} loan {ref} owes on "
        f"{paid_on} (its payoff amount): check the amount and the date")))


def _to_replay(session: Any, totals: dict[int, int], room: dict[int, int] | None = None
               ) -> list[int]:
    """The loans whose new payments (`totals`, minor units a loan) need a replay: a loan whose
    standing and new payments together stay below its principal cannot refuse any of them
    (see `principal_room`; `room` when it is read already)."""
    room = principal_room(session, totals) if room is None else room
    return [loan_id for loan_id, total in totals.items() if total >= room.get(loan_id, 0)]


def _replay(checked: Checked, about: dict[int, tuple[str, str]],
            pending: dict[int, list[ParsedRow]], ctx: Context) -> None:
    """Replay each loan's new payments after its standing ones; report each one refused.
    `about` gives each loan's ref and currency."""
    inputs = replay_inputs(ctx.session, list(pending))
    for loan_id, rows in pending.items():
        dues, stored = inputs[loan_id]
        ref, cur = about[loan_id]
        new = sorted(((r.values["paid_on"], _FILE_REF_BASE + r.number, r) for r in rows),
                     key=lambda t: (t[0], t[1]))
        if not stored or new[0][0] >= stored[-1].paid_on:
            # Every new payment replays after the standing ones (ties go to the standing
            # ones: their refs are lower), so the standing ones are decided as they were and
            # one replay fed in order decides each new one as `allocate` would.
            replay = Replay(dues)
            for payment in stored:
                replay.split(payment)
            for paid_on, number, row in new:
                result = replay.split(Payment(number, paid_on, row.values["amount"].amount))
                if isinstance(result, Refusal):
                    _refused(checked, row, ref, cur, result.payoff)
            continue
        state = allocate(dues, [*stored, *(Payment(n, d, r.values["amount"].amount)
                                           for d, n, r in new)], strict=False)
        row_of = {n: r for _, n, r in new}
        for refusal in state.refused:
            mine = row_of.get(int(refusal.payment.ref))
            if mine is not None:
                _refused(checked, mine, ref, cur, refusal.payoff)
        stored_refused = sum(1 for r in state.refused if int(r.payment.ref) not in row_of)
        # Replaying the standing payments alone is needed only when one of them is refused.
        if stored_refused and stored_refused > len(allocate(dues, stored, strict=False).refused):
            first = min(rows, key=lambda r: (r.get("paid_on"), r.number))
            checked.status.pop(first.number, None)
            checked.problems.append(Problem(first.number, "paid_on", str(first.get("paid_on")), (
                f"payments dated this early would leave later payments already recorded on "
                f"loan {ref} above what it owes: check the dates")))


def _before_reschedule(checked: Checked, about: dict[int, tuple[str, str]],
                       pending: dict[int, list[ParsedRow]], ctx: Context) -> None:
    """Refuse the new payments dated on or before their loan's last reschedule, as posting
    would: the old schedule is closed to them. They leave `pending` and the plan."""
    for loan_id, on in last_reschedules(ctx.session, list(pending)).items():
        keep = []
        for row in pending[loan_id]:
            paid_on = row.values["paid_on"]
            if paid_on > on:
                keep.append(row)
                continue
            checked.status.pop(row.number, None)
            checked.problems.append(Problem(row.number, "paid_on", paid_on.isoformat(), (
                f"loan {about[loan_id][0]} was rescheduled on {on}; a payment dated {paid_on} "
                "cannot change the old schedule: check the date (a payment made before the "
                "reschedule is entered before rescheduling)")))
        if keep:
            pending[loan_id] = keep
        else:
            del pending[loan_id]


def check(rows: list[ParsedRow], ctx: Context, present: set[str]) -> Checked:
    """Validate every payment: its loan, date, currency, conflicts, and that it is owed."""
    checked = Checked()
    dupes = duplicate_refs(rows, "payment_ref", checked)
    loans = by_refs(ctx.session, core_table("loan"),
                    [v["loan_ref"] for v in (r.values for r in rows) if v.get("loan_ref")])
    stored = repayments_by_ref(ctx.session, [v["payment_ref"] for v in (r.values for r in rows)
                                             if v.get("payment_ref")])
    # What most rows meet: an active loan in the payment's currency, paid out by then.
    usual = {ref: (int(m["id"]), m["currency"], m["disbursed_on"])
             for ref, m in ((ref, loan._mapping) for ref, loan in loans.items())
             if m["status"] == "active"}
    today = ctx.today
    pending: dict[int, list[ParsedRow]] = defaultdict(list)
    refs, status, problems = checked.refs, checked.status, checked.problems
    for row in rows:
        values, number = row.values, row.number
        ref = values.get("payment_ref")
        if ref is not None:
            refs[number] = ref
        if not row.ok or number in dupes:
            continue
        loan_ref = values["loan_ref"]
        if ref in stored:
            loan = loans.get(loan_ref)
            if loan is None:
                problems.append(_unknown_loan(number, loan_ref))
                continue
            amount: Money = values["amount"]
            loan_id, paid_on, minor, currency = stored[ref]
            diff = [(n, a, b) for n, a, b in (
                ("loan_ref", int(loan._mapping["id"]), loan_id),
                ("paid_on", values["paid_on"], paid_on),
                ("amount", amount.minor, minor),
                ("currency", amount.currency.code, currency)) if a != b]
            if diff:
                problems.extend(conflict(number, "payment_ref", ref, "payment", diff))
            else:
                status[number] = "unchanged"
            continue
        fast = usual.get(loan_ref)
        if fast is not None:
            amount, paid_on = values["amount"], values["paid_on"]
            if (amount.currency.code == fast[1] and amount.amount > 0 and paid_on <= today
                    and (fast[2] is None or paid_on >= fast[2])):
                status[number] = "new"
                pending[fast[0]].append(row)
                continue
        loan = loans.get(loan_ref)
        if loan is None:
            problems.append(_unknown_loan(number, loan_ref))
            continue
        found = _loan_problems(row, loan, ctx)
        if found:
            problems.extend(found)
            continue
        status[number] = "new"
        pending[int(loan._mapping["id"])].append(row)
    about = {int(m["id"]): (m["ref"], m["currency"])
             for m in (loan._mapping for loan in loans.values())}
    _before_reschedule(checked, about, pending, ctx)
    replayed = _to_replay(ctx.session, {loan_id: sum(r.values["amount"].minor for r in rs)
                                        for loan_id, rs in pending.items()})
    _replay(checked, about, {loan_id: pending[loan_id] for loan_id in replayed}, ctx)
    loan_of = {r.number: loan_id for loan_id, rs in pending.items() for r in rs}
    checked.plan = [NewRepayment(loan_of[r.number], v["paid_on"], v["amount"],
                                 v["payment_ref"], v.get("received_by"), v.get("note") or "")
                    for r, v in ((r, r.values) for r in rows)  # file order: ties keep it
                    if status.get(r.number) == "new"]
    return checked


def check_table(table: ParsedTable, ctx: Context, present: set[str]) -> Checked:
    """`check` for a file read as columns. The usual file, every row a new payment on an
    active loan in its currency, paid out by then, none in the future, is checked a
    distinct value at a time; any other file goes through `check` row by row."""
    refs = table.column("payment_ref")
    if not table.clean or len(set(refs)) != len(refs):
        return check(table.rows(), ctx, present)
    loan_refs, paid, amounts = (table.column("loan_ref"), table.column("paid_on"),
                                table.column("amount"))
    session, today = ctx.session, ctx.today
    # The lookups run at once, two beside the session's (`imports.beside`): each needs only
    # the file's refs.
    with Beside(session) as side:
        stored = side.submit(repayments_by_ref, [r for r in refs if r])
        # As `check`: a blank ref (text of spaces, from a sheet made in code) is never looked up.
        named = [r for r in dict.fromkeys(loan_refs) if r]
        standing = side.submit(standing_paid_by_ref, named)
        # How many rows each (loan, date, amount) has, counted while those two read; amounts
        # are few objects (see `cells`), so what the test needs of each (currency code, above
        # zero, minor units) is taken once per object, not once per row.
        seen = Counter(zip(loan_refs, paid, map(id, amounts), strict=True))
        facts = {id(a): (a.currency.code, a.amount > 0, a.minor)
                 for a in dict(zip(map(id, amounts), amounts, strict=True)).values()}
        loans = loans_by_ref(session, named)
        totals: dict[int, int] = {}
        get = loans.get
        for (loan_ref, paid_on, key), count in seen.items():
            loan = get(loan_ref)
            code, above_zero, minor = facts[key]
            if (loan is None or loan[1] != "active" or code != loan[2]
                    or not above_zero or paid_on > today
                    or (loan[3] is not None and paid_on < loan[3])
                    # on or before the loan's last reschedule: `check` names the payment
                    or (loan[5] is not None and paid_on <= loan[5])):
                return check(table.rows(), ctx, present)
            totals[loan[0]] = totals.get(loan[0], 0) + minor * count
        if stored():  # some already stored
            return check(table.rows(), ctx, present)
        room = room_left({loan[0]: (loan[4], loan[6]) for loan in loans.values()
                          if loan[0] in totals}, standing())
    numbers = table.numbers
    checked = Checked(dict(zip(numbers, refs, strict=True)), dict.fromkeys(numbers, "new"))
    replayed = set(_to_replay(session, totals, room))
    loan_ids = [loans[r][0] for r in loan_refs]
    if replayed:
        pending: dict[int, list[ParsedRow]] = {loan_id: [] for loan_id in totals
                                               if loan_id in replayed}
        for index, loan_id in enumerate(loan_ids):
            if loan_id in replayed:
                pending[loan_id].append(table.row(index))
        about = {loan[0]: (ref, loan[2]) for ref, loan in loans.items()}
        _replay(checked, about, pending, ctx)
    plan = made_many(NewRepayment, loan_ids, paid, amounts, refs, table.column("received_by"),
                     [note or "" for note in table.column("note")])
    status = checked.status
    checked.plan = (plan if len(status) == len(numbers) else  # else some were refused
                    [p for p, number in zip(plan, numbers, strict=True) if number in status])
    return checked


def _unknown_loan(number: int, loan_ref: str) -> Problem:
    return Problem(number, "loan_ref", loan_ref, (
        f"loan {loan_ref!r} is not in the ledger: import the loans file first, or correct "
        "the ref"))


def commit(plan: list[NewRepayment], ctx: Context, progress: Progress) -> int:
    """Post every new payment in one bulk transaction (date order, then file order)."""
    try:
        post_repayments(ctx.session, actor=ctx.actor, payments=plan, today=ctx.today,
                        progress=progress)
    except ServiceError as exc:
        raise RowRefused(None, exc.field or "amount", "", exc.message) from exc
    return len(plan)
