"""The journal as tables: every posting with its entry, entries alone, the general ledger with
running balances, and the trial balance — all straight from SQL, streamed."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import sqlalchemy as sa

from exports.cells import Amount, Cell
from exports.context import Dataset, ExportContext, stream
from exports.workbook import Column
from ledger.db.tables import core_table

__all__ = [
    "ENTRIES",
    "GENERAL_LEDGER",
    "JOURNAL",
    "TRIAL_BALANCE",
    "chain_head",
    "tb_rows",
    "trial_balance",
]

_SEQ = "0"


def _dc(minor: int, currency: str) -> tuple[Amount | None, Amount | None]:
    return (Amount(minor, currency), None) if minor > 0 else (None, Amount(-minor, currency))


def chain_head(ctx: ExportContext) -> tuple[int, int | None, str | None, int]:
    """(entries in the chain, last seq, last hash, entries dated on or before as-of)."""
    je = core_table("journal_entry")
    count, last_seq = ctx.session.execute(
        sa.select(sa.func.count(je.c.id), sa.func.max(je.c.seq))).one()
    last_hash = None if last_seq is None else ctx.session.execute(
        sa.select(je.c.hash).where(je.c.seq == last_seq)).scalar_one()
    dated = ctx.session.execute(
        sa.select(sa.func.count(je.c.id)).where(je.c.occurred_on <= ctx.as_of)).scalar_one()
    return int(count), None if last_seq is None else int(last_seq), last_hash, int(dated)


JOURNAL_COLUMNS = (
    Column("Seq", 8, _SEQ), Column("Date", 11), Column("Kind", 12),
    Column("Memo", 40, private=True), Column("Reverses seq", 9, _SEQ),
    Column("Reversed kind", 12), Column("Loan", 14), Column("Account", 22),
    Column("Account role", 16), Column("Currency", 8), Column("Debit", 14),
    Column("Credit", 14), Column("Component", 10), Column("User", 14),
    Column("Recorded at (UTC)", 19), Column("Hash", 66),
)


def _journal_rows(ctx: ExportContext) -> Iterator[Sequence[Cell]]:
    je, post, acct, loan = (core_table(n) for n in ("journal_entry", "posting", "account", "loan"))
    rev = je.alias("reversed_entry")
    query = (
        sa.select(je.c.seq, je.c.occurred_on, je.c.kind, je.c.memo, rev.c.seq, rev.c.kind,
                  loan.c.ref, acct.c.code, acct.c.role, post.c.currency, post.c.amount_minor,
                  post.c.component, je.c.created_by, je.c.created_at, je.c.hash)
        .select_from(post)
        .join(je, je.c.id == post.c.entry_id)
        .join(acct, acct.c.id == post.c.account_id)
        .outerjoin(rev, rev.c.id == je.c.reverses_id)
        .outerjoin(loan, loan.c.id == post.c.loan_id)
        .where(je.c.occurred_on <= ctx.as_of, *ctx.scoped(je.c.loan_id))
        .order_by(je.c.seq, post.c.id)
    )
    for (seq, on, kind, memo, rseq, rkind, loan_ref, code, role, cur, minor, comp, by, at,
         digest) in stream(ctx, query):
        debit, credit = _dc(int(minor), str(cur))
        yield (seq, on, kind, memo, rseq, rkind, loan_ref, code, role, cur, debit, credit, comp,
               by, at, digest)


JOURNAL = Dataset("Journal", JOURNAL_COLUMNS, _journal_rows)

ENTRY_COLUMNS = (
    Column("Seq", 8, _SEQ), Column("Date", 11), Column("Kind", 12),
    Column("Memo", 40, private=True), Column("Loan", 14), Column("Reverses seq", 9, _SEQ),
    Column("User", 14), Column("Recorded at (UTC)", 19), Column("Previous hash", 66),
    Column("Hash", 66),
)


def _entry_rows(ctx: ExportContext) -> Iterator[Sequence[Cell]]:
    je, loan = core_table("journal_entry"), core_table("loan")
    rev = je.alias("reversed_entry")
    query = (
        sa.select(je.c.seq, je.c.occurred_on, je.c.kind, je.c.memo, loan.c.ref, rev.c.seq,
                  je.c.created_by, je.c.created_at, je.c.prev_hash, je.c.hash)
        .select_from(je)
        .outerjoin(rev, rev.c.id == je.c.reverses_id)
        .outerjoin(loan, loan.c.id == je.c.loan_id)
        .where(je.c.occurred_on <= ctx.as_of, *ctx.scoped(je.c.loan_id))
        .order_by(je.c.seq)
    )
    yield from (tuple(r) for r in stream(ctx, query))


ENTRIES = Dataset("Journal entries", ENTRY_COLUMNS, _entry_rows)

GL_COLUMNS = (
    Column("Account", 22), Column("Account name", 28), Column("Currency", 8),
    Column("Date", 11), Column("Seq", 8, _SEQ), Column("Kind", 12), Column("Loan", 14),
    Column("Debit", 14), Column("Credit", 14), Column("Balance", 16),
)


def _gl_rows(ctx: ExportContext) -> Iterator[Sequence[Cell]]:
    je, post, acct, loan = (core_table(n) for n in ("journal_entry", "posting", "account", "loan"))
    running = sa.func.sum(post.c.amount_minor).over(
        partition_by=post.c.account_id, order_by=(je.c.seq, post.c.id))
    query = (
        sa.select(acct.c.code, acct.c.name, post.c.currency, je.c.occurred_on, je.c.seq,
                  je.c.kind, loan.c.ref, post.c.amount_minor, running)
        .select_from(post)
        .join(je, je.c.id == post.c.entry_id)
        .join(acct, acct.c.id == post.c.account_id)
        .outerjoin(loan, loan.c.id == post.c.loan_id)
        .where(je.c.occurred_on <= ctx.as_of, *ctx.scoped(je.c.loan_id))
        .order_by(acct.c.code, je.c.seq, post.c.id)
    )
    for code, name, cur, on, seq, kind, loan_ref, minor, balance in stream(ctx, query):
        debit, credit = _dc(int(minor), str(cur))
        yield (code, name, cur, on, seq, kind, loan_ref, debit, credit,
               Amount(int(balance), str(cur)))


GENERAL_LEDGER = Dataset("General ledger", GL_COLUMNS, _gl_rows)

TB_COLUMNS = (
    Column("Account", 22), Column("Account name", 28), Column("Kind", 10),
    Column("Role", 16), Column("Currency", 8), Column("Debit", 16), Column("Credit", 16),
    Column("Postings", 9, "#,##0"),
)


def trial_balance(ctx: ExportContext) -> list[tuple[str, str, str, str, str, int, int]]:
    """(code, name, kind, role, currency, balance minor, postings) for every account, as of;
    queried once per export run (the sheet, the checks and the loans' currencies read it)."""
    found: list[tuple[str, str, str, str, str, int, int]] | None = ctx.memo.get("trial_balance")
    if found is None:
        found = ctx.memo["trial_balance"] = _trial_balance(ctx)
    return found


def _trial_balance(ctx: ExportContext) -> list[tuple[str, str, str, str, str, int, int]]:
    je, post, acct = core_table("journal_entry"), core_table("posting"), core_table("account")
    sums = (
        sa.select(post.c.account_id, sa.func.sum(post.c.amount_minor).label("total"),
                  sa.func.count(post.c.id).label("n"))
        .join(je, je.c.id == post.c.entry_id)
        .where(je.c.occurred_on <= ctx.as_of, *ctx.scoped(je.c.loan_id))
        .group_by(post.c.account_id)
        .subquery()
    )
    query = (
        sa.select(acct.c.code, acct.c.name, acct.c.kind, acct.c.role, acct.c.currency,
                  sa.func.coalesce(sums.c.total, 0), sa.func.coalesce(sums.c.n, 0))
        .outerjoin(sums, sums.c.account_id == acct.c.id)
        .order_by(acct.c.code)
    )
    return [(str(a), str(b), str(c), str(d), str(e), int(f), int(g))
            for a, b, c, d, e, f, g in ctx.session.execute(query)]


def _tb_rows(ctx: ExportContext) -> Iterator[Sequence[Cell]]:
    return tb_rows(trial_balance(ctx))


def tb_rows(balances: Sequence[tuple[str, str, str, str, str, int, int]],
            ) -> Iterator[Sequence[Cell]]:
    """The Trial balance sheet's rows from `trial_balance`'s, so one query serves the sheet
    and the checks."""
    for code, name, kind, role, cur, total, count in balances:
        debit, credit = (Amount(total, cur), Amount(0, cur)) if total >= 0 else (
            Amount(0, cur), Amount(-total, cur))
        yield (code, name, kind, role, cur, debit, credit, count)


TRIAL_BALANCE = Dataset("Trial balance", TB_COLUMNS, _tb_rows)
