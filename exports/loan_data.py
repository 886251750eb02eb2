"""Loans, their scheduled installments (with paid and unpaid parts) and payments, streamed.

Installments need the allocation replay (which payment paid which part): loans are read in
batches, their first schedules and standing payments fetched per batch with Core queries, and
each loan replayed by the same pure `allocate` the services use; a rescheduled loan's dues come
from `load_dues`, exactly as `fsf verify` replays them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from decimal import Decimal
from functools import partial

import sqlalchemy as sa

from exports.cells import Amount, Cell
from exports.context import STREAM_BATCH, Dataset, ExportContext, stream
from exports.workbook import Column
from ledger.allocation import Due, Payment, allocate
from ledger.db.tables import Loan, core_table
from ledger.money import get_currency
from ledger.services.loan_book import load_dues

__all__ = ["INSTALLMENTS", "LOANS", "PAYMENTS", "standing_payments"]

LOAN_BATCH = 500


def _reversed_by(as_of: object) -> sa.Select[tuple[object, ...]]:
    """Repayment ids reversed by an entry dated on or before `as_of`."""
    rr, je = core_table("repayment_reversal"), core_table("journal_entry")
    return (sa.select(rr.c.repayment_id).join(je, je.c.id == rr.c.entry_id)
            .where(je.c.occurred_on <= as_of))


PAYMENT_COLUMNS = (
    Column("Receipt", 9, "0"), Column("Ref", 14), Column("Paid on", 11), Column("Loan", 14),
    Column("Family", 14), Column("Head of family", 24, private=True), Column("Village", 18),
    Column("Currency", 8), Column("Amount", 14), Column("Cash account", 20),
    Column("Received by", 14), Column("Entry seq", 9, "0"), Column("Reversed", 9),
    Column("Reversal seq", 9, "0"), Column("Reversal reason", 24, private=True),
    Column("Note", 24, private=True),
)


def _payment_rows(ctx: ExportContext) -> Iterator[Sequence[Cell]]:
    rp, loan, fam, vil = (core_table(n) for n in ("repayment", "loan", "family", "village"))
    acct, je, rr = (core_table(n) for n in ("account", "journal_entry", "repayment_reversal"))
    rje = je.alias("reversal_entry")
    query = (
        sa.select(rp.c.id, rp.c.ref, rp.c.paid_on, loan.c.ref, fam.c.id, fam.c.ref,
                  fam.c.head_name, vil.c.name_en, rp.c.currency, rp.c.amount_minor, acct.c.code,
                  rp.c.received_by, je.c.seq, rje.c.seq, rr.c.reason, rp.c.note)
        .select_from(rp)
        .join(loan, loan.c.id == rp.c.loan_id)
        .join(fam, fam.c.id == loan.c.family_id)
        .join(vil, vil.c.id == fam.c.village_id)
        .join(acct, acct.c.id == rp.c.cash_account_id)
        .join(je, je.c.id == rp.c.entry_id)
        .outerjoin(rr, rr.c.repayment_id == rp.c.id)
        .outerjoin(rje, sa.and_(rje.c.id == rr.c.entry_id, rje.c.occurred_on <= ctx.as_of))
        .where(rp.c.paid_on <= ctx.as_of)
        .order_by(rp.c.paid_on, rp.c.id)
    )
    for (pid, ref, paid_on, loan_ref, fid, fref, head, village, cur, minor, cash, by, seq, rseq,
         reason, note) in stream(ctx, query):
        done = rseq is not None
        yield (pid, ref, paid_on, loan_ref, ctx.family(fid, fref), head, village, cur,
               Amount(int(minor), str(cur)), cash, by, seq, "yes" if done else "no", rseq,
               reason if done else None, note or None)


PAYMENTS = Dataset("Payments", PAYMENT_COLUMNS, _payment_rows)


def standing_payments(ctx: ExportContext) -> dict[str, int]:
    """Σ payments received on or before as-of and not reversed by then, per currency."""
    rp = core_table("repayment")
    rows = ctx.session.execute(
        sa.select(rp.c.currency, sa.func.sum(rp.c.amount_minor))
        .where(rp.c.paid_on <= ctx.as_of, rp.c.id.not_in(_reversed_by(ctx.as_of)))
        .group_by(rp.c.currency))
    return {str(c): int(t) for c, t in rows}


INSTALLMENT_COLUMNS = (
    Column("Loan", 14), Column("Family", 14), Column("Head of family", 24, private=True),
    Column("Village", 18), Column("Written off", 8), Column("Currency", 8),
    Column("No.", 5, "0"), Column("Due date", 11), Column("Principal due", 13),
    Column("Interest due", 12), Column("Fees and penalties due", 12), Column("Total due", 13),
    Column("Principal paid", 13), Column("Interest paid", 12),
    Column("Fees and penalties paid", 12), Column("Total paid", 13),
    Column("Waived", 10), Column("Principal unpaid", 13), Column("Interest unpaid", 12),
    Column("Total unpaid", 13), Column("Fully paid on", 11), Column("On time", 7),
)


def _minor(value: Decimal, digits: int) -> int:
    return int(value.scaleb(digits))


def _loan_batches(ctx: ExportContext) -> Iterator[list[sa.Row[tuple[object, ...]]]]:
    loan, fam, vil = core_table("loan"), core_table("family"), core_table("village")
    query = (
        sa.select(loan.c.id, loan.c.ref, loan.c.currency, loan.c.written_off_on, fam.c.id,
                  fam.c.ref, fam.c.head_name, vil.c.name_en)
        .join(fam, fam.c.id == loan.c.family_id)
        .join(vil, vil.c.id == fam.c.village_id)
        .where(loan.c.disbursed_on.is_not(None), loan.c.disbursed_on <= ctx.as_of)
        .order_by(loan.c.id)
    )
    batch: list[sa.Row[tuple[object, ...]]] = []
    for row in ctx.session.execute(query).yield_per(STREAM_BATCH):
        batch.append(row)
        if len(batch) == LOAN_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _batch_inputs(ctx: ExportContext, ids: list[int], currencies: dict[int, str],
                  ) -> tuple[dict[int, list[Due]], dict[int, int], dict[int, list[Payment]]]:
    ls, si, rp = (core_table(n) for n in ("loan_schedule", "schedule_installment", "repayment"))
    first: dict[int, list[Due]] = defaultdict(list)
    versions: dict[int, int] = defaultdict(int)
    for lid, version in ctx.session.execute(
            sa.select(ls.c.loan_id, ls.c.version).where(ls.c.loan_id.in_(ids))):
        versions[int(lid)] = max(versions[int(lid)], int(version))
    for lid, number, due, p, i, f, pen in ctx.session.execute(
            sa.select(ls.c.loan_id, si.c.number, si.c.due_date, si.c.principal_minor,
                      si.c.interest_minor, si.c.fee_minor, si.c.penalty_minor)
            .join(si, si.c.schedule_id == ls.c.id)
            .where(ls.c.loan_id.in_(ids), ls.c.version == 1)
            .order_by(ls.c.loan_id, si.c.number)):
        digits = get_currency(currencies[int(lid)]).digits
        first[int(lid)].append(Due(int(number), due, *(Decimal(int(v)).scaleb(-digits)
                                                       for v in (p, i, f, pen))))
    pays: dict[int, list[Payment]] = defaultdict(list)
    for pid, lid, paid_on, minor in ctx.session.execute(
            sa.select(rp.c.id, rp.c.loan_id, rp.c.paid_on, rp.c.amount_minor)
            .where(rp.c.loan_id.in_(ids), rp.c.paid_on <= ctx.as_of,
                   rp.c.id.not_in(_reversed_by(ctx.as_of)))
            .order_by(rp.c.loan_id, rp.c.paid_on, rp.c.id)):
        digits = get_currency(currencies[int(lid)]).digits
        pays[int(lid)].append(Payment(int(pid), paid_on, Decimal(int(minor)).scaleb(-digits)))
    return first, versions, pays


def _installment_rows(ctx: ExportContext) -> Iterator[Sequence[Cell]]:
    for batch in _loan_batches(ctx):
        ids = [int(r[0]) for r in batch]
        currencies = {int(r[0]): str(r[2]) for r in batch}
        first, versions, pays = _batch_inputs(ctx, ids, currencies)
        for lid, ref, cur, off_on, fid, fref, head, village in batch:
            loan_id, code = int(lid), str(cur)
            payments = tuple(pays.get(loan_id, ()))
            dues: Sequence[Due] = first.get(loan_id, [])
            if versions.get(loan_id, 1) > 1:
                row = ctx.session.get(Loan, loan_id)
                assert row is not None
                dues = load_dues(ctx.session, row, payments)
            state = allocate(dues, payments, as_of=ctx.as_of, strict=False)
            digits = get_currency(code).digits
            written_off = "yes" if off_on is not None and off_on <= ctx.as_of else "no"
            family = ctx.family(fid, fref)
            # Whole minor units: `int` of the Decimal, scaled first when the currency has cents.
            minor = int if digits == 0 else partial(_minor, digits=digits)
            for inst in state.installments:
                due, paid, left = inst.due.parts, inst.paid, inst.outstanding
                yield (ref, family, head, village, written_off, code, inst.number,
                       inst.due_date, *(Amount(minor(v), code) for v in (
                           due.principal, due.interest, due.fee + due.penalty, due.total,
                           paid.principal, paid.interest, paid.fee + paid.penalty, paid.total,
                           inst.waived.total, left.principal, left.interest, left.total)),
                       inst.fully_paid_on, "yes" if inst.paid_on_time else "no")


INSTALLMENTS = Dataset("Installments", INSTALLMENT_COLUMNS, _installment_rows)

LOAN_COLUMNS = (
    Column("Loan", 14), Column("Family", 14), Column("Head of family", 24, private=True),
    Column("Village", 18), Column("Product", 8), Column("Fund", 8), Column("Currency", 8),
    Column("Principal", 14), Column("Rate %", 8, "0.00##"), Column("Rate per", 8),
    Column("Method", 10), Column("Repayments", 6, "0"), Column("Every", 5, "0"),
    Column("Unit", 6), Column("Status", 11), Column("Renegotiated", 8),
    Column("Applied on", 11), Column("Approved on", 11), Column("Disbursed on", 11),
    Column("Closed on", 11), Column("Written off on", 11),
)


def _loan_rows(ctx: ExportContext) -> Iterator[Sequence[Cell]]:
    loan, fam, vil = core_table("loan"), core_table("family"), core_table("village")
    prod, fund = core_table("loan_product"), core_table("fund")
    query = (
        sa.select(loan.c.ref, fam.c.id, fam.c.ref, fam.c.head_name, vil.c.name_en, prod.c.code,
                  fund.c.code, loan.c.currency, loan.c.principal_minor, loan.c.rate,
                  loan.c.rate_period, loan.c.method, loan.c.repayments, loan.c.every,
                  loan.c.unit, loan.c.status, loan.c.renegotiated, loan.c.applied_on,
                  loan.c.approved_on, loan.c.disbursed_on, loan.c.closed_on,
                  loan.c.written_off_on)
        .join(fam, fam.c.id == loan.c.family_id).join(vil, vil.c.id == fam.c.village_id)
        .join(prod, prod.c.id == loan.c.product_id).join(fund, fund.c.id == loan.c.fund_id)
        .order_by(loan.c.id)
    )
    for r in stream(ctx, query):
        (ref, fid, fref, head, village, product, fund_code, cur, principal, rate, per, method,
         reps, every, unit, status, reneg, *dates) = r
        yield (ref, ctx.family(fid, fref), head, village, product, fund_code, cur,
               Amount(int(principal), str(cur)), rate, per, method, reps, every, unit,
               status, "yes" if reneg else "no", *dates)


LOANS = Dataset("Loans", LOAN_COLUMNS, _loan_rows)
