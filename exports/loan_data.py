"""Loans, their scheduled installments (with paid and unpaid parts) and payments, streamed.

Installments need the allocation replay (which payment paid which part): loans are read in
batches, and each batch's schedules and standing payments read and replayed in whole minor
units by `ledger.reports.installments` (rescheduled loans composed as `load_dues` composes
them), which gives exactly what `allocate` gives each installment.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import sqlalchemy as sa

from exports.cells import Amount, Cell
from exports.context import STREAM_BATCH, Dataset, ExportContext, stream
from exports.workbook import Column
from ledger.db.tables import core_table
from ledger.reports.installments import installments_for, standing_on

__all__ = ["INSTALLMENTS", "LOANS", "PAYMENTS", "standing_payments"]

LOAN_BATCH = 500
# Distinct amounts kept per currency while writing the Installments sheet.
AMOUNTS_KEPT = 20_000


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
        .where(rp.c.paid_on <= ctx.as_of, *ctx.scoped(rp.c.loan_id))
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
        .where(rp.c.paid_on <= ctx.as_of, standing_on(rp.c.id, ctx.as_of),
               *ctx.scoped(rp.c.loan_id))
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


def _loan_batches(ctx: ExportContext) -> Iterator[list[sa.Row[tuple[object, ...]]]]:
    loan, fam, vil = core_table("loan"), core_table("family"), core_table("village")
    query = (
        sa.select(loan.c.id, loan.c.ref, loan.c.currency, loan.c.written_off_on, fam.c.id,
                  fam.c.ref, fam.c.head_name, vil.c.name_en)
        .join(fam, fam.c.id == loan.c.family_id)
        .join(vil, vil.c.id == fam.c.village_id)
        .where(loan.c.disbursed_on.is_not(None), loan.c.disbursed_on <= ctx.as_of,
               *ctx.scoped(loan.c.id))
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


class _Amounts(dict[int, Amount]):
    """`Amount`s of one currency by minor units, made once: the sheet has twelve a row and
    most are the same few figures (nothing, a product's usual installment)."""

    def __init__(self, currency: str) -> None:
        super().__init__()
        self.currency = currency

    def __missing__(self, minor: int) -> Amount:
        if len(self) >= AMOUNTS_KEPT:
            self.clear()  # memory stays bounded on a ledger of many distinct figures
        made = self[minor] = Amount(minor, self.currency)
        return made


def _installment_rows(ctx: ExportContext) -> Iterator[Sequence[Cell]]:
    as_of = ctx.as_of
    amounts: dict[str, _Amounts] = {}
    for batch in _loan_batches(ctx):
        replayed = installments_for(ctx.session, [int(r[0]) for r in batch], as_of)
        for (_, ref, cur, off_on, fid, fref, head, village), (_, rows) in zip(
                batch, replayed, strict=True):
            code = str(cur)
            a = amounts.get(code) or amounts.setdefault(code, _Amounts(code))
            written_off = "yes" if off_on is not None and off_on <= as_of else "no"
            family = ctx.family(fid, fref)
            for number, due_date, due, paid, waived, fully_paid_on in rows:
                pen, fee, interest, principal = due
                p_pen, p_fee, p_int, p_prin = paid
                w_total = waived[0] + waived[1] + waived[2] + waived[3]
                due_total = pen + fee + interest + principal
                paid_total = p_pen + p_fee + p_int + p_prin
                yield (ref, family, head, village, written_off, code, number, due_date,
                       a[principal], a[interest], a[fee + pen], a[due_total], a[p_prin],
                       a[p_int], a[p_fee + p_pen], a[paid_total], a[w_total],
                       a[principal - p_prin - waived[3]], a[interest - p_int - waived[2]],
                       a[due_total - paid_total - w_total], fully_paid_on,
                       "yes" if fully_paid_on is not None and fully_paid_on <= due_date
                       else "no")


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
        .where(*ctx.scoped(loan.c.id))
        .order_by(loan.c.id)
    )
    for r in stream(ctx, query):
        (ref, fid, fref, head, village, product, fund_code, cur, principal, rate, per, method,
         reps, every, unit, status, reneg, *dates) = r
        yield (ref, ctx.family(fid, fref), head, village, product, fund_code, cur,
               Amount(int(principal), str(cur)), rate, per, method, reps, every, unit,
               status, "yes" if reneg else "no", *dates)


LOANS = Dataset("Loans", LOAN_COLUMNS, _loan_rows)
