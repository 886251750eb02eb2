"""Every loan's installments after the replay, in whole minor units, for sheets of all loans.

`load_state` replays one loan in Decimal with its own queries. A sheet of every installment
reads a run of loans (by id) in two set-based queries instead, every schedule version and
every standing payment in loan id order, and replays each loan in integers: `MinorReplay`
decides each payment (fill, refusal or payoff) exactly as `allocate` does, and what it leaves
per installment follows from its running total. A rescheduled loan's dues are composed the
way `compose_dues` composes them, from the same integer replay of the older schedule.

Dues `allocate` refuses (a negative part, due dates not rising) are left to the Decimal path
(`load_dues` and `allocate`, per loan), which raises exactly what it raises elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from itertools import accumulate
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.allocation import Parts, Payment, allocate
from ledger.allocation_book import _ALL, _INTEREST_AND_PRINCIPAL, _claims
from ledger.allocation_minor import MinorReplay, minor_dues_ok
from ledger.db.tables import Loan, core_table
from ledger.money import get_currency
from ledger.services.loan_book import load_dues

__all__ = ["MinorInstallment", "NumberedDue", "compose_minor", "installments_for",
           "payments_query", "replay_minor", "schedules_query", "standing_on"]

# (penalty, fee, interest, principal) in minor units.
Split = tuple[int, int, int, int]
# (number, due date, penalty, fee, interest, principal) of one scheduled installment.
NumberedDue = tuple[int, date, int, int, int, int]
# (paid on, amount) of one standing payment; a loan's come in replay order (date, then id).
MinorPayment = tuple[date, int]
# (created on, installments) of one schedule version; a loan's come in version order.
Version = tuple[date, list[NumberedDue]]

_NOTHING: Split = (0, 0, 0, 0)


class MinorInstallment(NamedTuple):
    """One installment after the replay, as `InstallmentState` gives it, in minor units."""

    number: int
    due_date: date
    due: Split
    paid: Split
    waived: Split
    fully_paid_on: date | None


def _filled(start: int, due: NumberedDue, total: int) -> Split:
    # What a running total `total` has filled of an installment starting at `start`.
    _, _, p, f, n, r = due
    a, b, c = start + p, start + p + f, start + p + f + n
    return (min(max(total - start, 0), p), min(max(total - a, 0), f),
            min(max(total - b, 0), n), min(max(total - c, 0), r))


def replay_minor(dues: Sequence[NumberedDue], payments: Sequence[MinorPayment]
                 ) -> list[MinorInstallment] | None:
    """What `allocate(dues, payments, strict=False)` leaves on each installment, in
    installment order; None for dues `allocate` refuses (then its own error is the answer)."""
    ordered = sorted(dues, key=lambda d: d[0])
    if len({d[0] for d in ordered}) != len(ordered):
        return None
    minor = [(d[1], d[2], d[3], d[4], d[5]) for d in ordered]
    if not minor_dues_ok(minor):
        return None
    totals = [d[2] + d[3] + d[4] + d[5] for d in ordered]
    ends = list(accumulate(totals))
    n = len(ordered)
    done: list[date | None] = [None] * n
    replay = MinorReplay(minor)
    reached = 0  # installments before it end at or below the running total
    payoff_on: date | None = None
    payoff_from = 0
    for day, amount in payments:
        before = replay.paid_total
        if replay.split(day, amount) is None:
            continue
        if replay.closed:
            payoff_on, payoff_from = day, before
            break  # nothing is owed after a payoff: every later payment is refused
        total = replay.paid_total
        while reached < n and ends[reached] <= total:
            if totals[reached]:
                done[reached] = day  # the payment that left nothing owed on it
            reached += 1
    out: list[MinorInstallment] = []
    if payoff_on is None:
        start = 0
        for i, due in enumerate(ordered):
            out.append(MinorInstallment(due[0], due[1], (due[2], due[3], due[4], due[5]),
                                        _filled(start, due, replay.paid_total), _NOTHING,
                                        done[i]))
            start = ends[i]
        return out
    # The payoff pays its claim on each installment and forgives what the claim leaves.
    claims = _claims((d[1] for d in ordered), payoff_on)
    start = 0
    for i, due in enumerate(ordered):
        paid = _filled(start, due, payoff_from)
        owing = (due[2] - paid[0], due[3] - paid[1], due[4] - paid[2], due[5] - paid[3])
        kind = claims[i]
        claim = (owing if kind == _ALL else (0, 0, owing[2], owing[3])
                 if kind == _INTEREST_AND_PRINCIPAL else (0, 0, 0, owing[3]))
        waived = (owing[0] - claim[0], owing[1] - claim[1], owing[2] - claim[2],
                  owing[3] - claim[3])
        # Installments owing nothing were settled (or owed nothing) before the payoff.
        settled_on = payoff_on if any(owing) else done[i]
        out.append(MinorInstallment(due[0], due[1], (due[2], due[3], due[4], due[5]), (
            paid[0] + claim[0], paid[1] + claim[1], paid[2] + claim[2], paid[3] + claim[3]),
            waived, settled_on))
        start = ends[i]
    return out


def _settled(before: Sequence[MinorInstallment], on: date) -> list[NumberedDue]:
    # `loan_book._settled` in minor units: what the old schedule was paid by `on`, as dues
    # exactly settled; what was paid ahead on later installments merged into one due on `on`.
    kept: list[NumberedDue] = []
    ahead = _NOTHING
    for inst in before:
        p = inst.paid
        if not p[0] + p[1] + p[2] + p[3]:
            continue
        if inst.due_date <= on:
            kept.append((len(kept) + 1, inst.due_date, p[0], p[1], p[2], p[3]))
        else:
            ahead = (ahead[0] + p[0], ahead[1] + p[1], ahead[2] + p[2], ahead[3] + p[3])
    if ahead[0] + ahead[1] + ahead[2] + ahead[3]:
        if kept and kept[-1][1] == on:
            last = kept.pop()
            ahead = (ahead[0] + last[2], ahead[1] + last[3], ahead[2] + last[4],
                     ahead[3] + last[5])
        kept.append((len(kept) + 1, on, *ahead))
    return kept


def compose_minor(versions: Sequence[Version], payments: Sequence[MinorPayment]
                  ) -> list[NumberedDue] | None:
    """`compose_dues` in minor units: the first schedule, and after each reschedule what the
    old dues were paid by then followed by the new schedule, numbered on. None when an older
    schedule cannot be replayed (`allocate` refuses it)."""
    if not versions:
        return []
    dues = list(versions[0][1])
    for created_on, new in versions[1:]:
        before = replay_minor(dues, [p for p in payments if p[0] <= created_on])
        if before is None:
            return None
        settled = _settled(before, created_on)
        k = len(settled)
        dues = settled + [(k + d[0], d[1], d[2], d[3], d[4], d[5]) for d in new]
    return dues


def standing_on(repayment_id: sa.ColumnElement[int], as_of: date) -> sa.ColumnElement[bool]:
    """The repayment is not reversed by an entry dated on or before `as_of`. Asked of each
    repayment through its reversal's index: as a list of every reversed id, SQLite built it
    from every journal entry up to the day, 9 million at 1M loans, for each batch of loans."""
    rr, je = core_table("repayment_reversal"), core_table("journal_entry")
    return ~sa.exists().where(rr.c.repayment_id == repayment_id, je.c.id == rr.c.entry_id,
                              je.c.occurred_on <= as_of)


def _among(loan_id: sa.ColumnElement[int], loan_ids: Sequence[int]) -> sa.ColumnElement[bool]:
    """`loan_id` is one of `loan_ids` (rising): a range when they are most of it, as in a
    whole ledger's batch; the ids themselves when they are scattered, as in one province's,
    whose range would take in twenty times as many other loans' rows."""
    first, last = loan_ids[0], loan_ids[-1]
    if last - first + 1 <= 2 * len(loan_ids):
        return loan_id.between(first, last)
    return loan_id.in_(list(loan_ids))


def schedules_query(loan_ids: Sequence[int]) -> sa.Select[Any]:
    """Every schedule version's installments of the loans (rising ids), in order."""
    ls, si = core_table("loan_schedule"), core_table("schedule_installment")
    return (sa.select(ls.c.loan_id, ls.c.version, ls.c.created_on, si.c.number, si.c.due_date,
                      si.c.principal_minor, si.c.interest_minor, si.c.fee_minor,
                      si.c.penalty_minor)
            .join(si, si.c.schedule_id == ls.c.id)
            .where(_among(ls.c.loan_id, loan_ids))
            .order_by(ls.c.loan_id, ls.c.version, si.c.number))


def payments_query(loan_ids: Sequence[int], as_of: date) -> sa.Select[Any]:
    """The loans' payments standing on `as_of`, in the order they are allocated."""
    rp = core_table("repayment")
    return (sa.select(rp.c.loan_id, rp.c.paid_on, rp.c.amount_minor)
            .where(_among(rp.c.loan_id, loan_ids), rp.c.paid_on <= as_of,
                   standing_on(rp.c.id, as_of))
            .order_by(rp.c.loan_id, rp.c.paid_on, rp.c.id))


def _read(session: Session, loan_ids: Sequence[int], as_of: date
          ) -> tuple[dict[int, list[Version]], dict[int, list[MinorPayment]]]:
    # Every schedule version and standing payment of the loans, in two queries.
    versions: dict[int, list[Version]] = {}
    current: tuple[int, int] | None = None
    rows: list[NumberedDue] = []
    for lid, version, created, number, due, p, i, f, pen in session.execute(
            schedules_query(loan_ids)):
        if (lid, version) != current:
            current, rows = (lid, version), []
            versions.setdefault(int(lid), []).append((created, rows))
        rows.append((int(number), due, int(pen), int(f), int(i), int(p)))
    payments: dict[int, list[MinorPayment]] = {}
    for lid, paid_on, minor in session.execute(payments_query(loan_ids, as_of)):
        payments.setdefault(int(lid), []).append((paid_on, int(minor)))
    return versions, payments


def _decimal(session: Session, loan_id: int, as_of: date) -> list[MinorInstallment]:
    # The per-loan Decimal path, exactly as the services replay (it raises what they raise).
    loan = session.get(Loan, loan_id)
    assert loan is not None
    rp = core_table("repayment")
    digits = get_currency(loan.currency).digits
    payments = tuple(
        Payment(int(pid), paid_on, Decimal(int(minor)).scaleb(-digits))
        for pid, paid_on, minor in session.execute(
            sa.select(rp.c.id, rp.c.paid_on, rp.c.amount_minor)
            .where(rp.c.loan_id == loan_id, rp.c.paid_on <= as_of,
                   standing_on(rp.c.id, as_of))
            .order_by(rp.c.paid_on, rp.c.id)))
    state = allocate(load_dues(session, loan, payments), payments, as_of=as_of, strict=False)

    def minor(parts: Parts) -> Split:
        return (int(parts.penalty.scaleb(digits)), int(parts.fee.scaleb(digits)),
                int(parts.interest.scaleb(digits)), int(parts.principal.scaleb(digits)))

    return [MinorInstallment(i.number, i.due_date, minor(i.due.parts), minor(i.paid),
                             minor(i.waived), i.fully_paid_on) for i in state.installments]


def installments_for(session: Session, loan_ids: Sequence[int], as_of: date
                     ) -> Iterator[tuple[int, list[MinorInstallment]]]:
    """Each of `loan_ids` (rising) with its installments as of `as_of`, replayed over the
    payments that stand then (received by then, not reversed by then), as the auditor
    workbook shows them; the loans' rows are read in two queries."""
    if not loan_ids:
        return
    versions, payments = _read(session, loan_ids, as_of)
    for loan_id in loan_ids:
        paid = payments.get(loan_id, [])
        dues = compose_minor(versions.get(loan_id, []), paid)
        rows = None if dues is None else replay_minor(dues, paid)
        yield loan_id, _decimal(session, loan_id, as_of) if rows is None else rows
