"""The Summary sheet: which ledger, as of when, who exported it and when, and the journal's
entry count and last hash, so the workbook can be tied to a verified chain."""

from __future__ import annotations

from exports.context import ExportContext
from exports.journal_data import chain_head
from exports.workbook import Column, Table, Workbook
from ledger.services.setup import ledger_facts

__all__ = ["DEMO_NOTICE", "is_demo", "write_summary"]

DEMO_NOTICE = "DEMO LEDGER: invented families for training, not real people"


def is_demo(ctx: ExportContext) -> bool:
    """Whether this export comes from a demo ledger (or is made by a demo user)."""
    return ctx.actor.demo or ledger_facts(ctx.session).get("demo") == "true"


def write_summary(book: Workbook, ctx: ExportContext, title: str = "Auditor workbook") -> Table:
    """Write the Summary sheet."""
    facts = ledger_facts(ctx.session)
    demo = is_demo(ctx)
    count, last_seq, last_hash, dated = chain_head(ctx)
    heading = f"FSF Ledger — {title}" + (" — DEMO" if demo else "")
    table = book.table("Summary", (Column("Item", 40), Column("Value", 70)),
                       preamble=((heading,),), split=False)
    rows: list[tuple[object, object]] = []
    if demo:
        rows.append(("DEMO", DEMO_NOTICE))
    rows += [
        ("Ledger", facts.get("ledger_name", "")),
        ("Province", facts.get("province", "")),
        ("Covers", "the whole ledger" if ctx.place is None else (
            f"{ctx.place}: the loans of its families and their postings only; the fund's own "
            "entries (capital, grants, transfers) and its Fund position are in the whole "
            "ledger's workbook")),
        ("As of", ctx.as_of),
        ("Exported by", ctx.actor.name),
        ("Exported at (UTC)", ctx.exported_at),
        ("Pseudonymised copy", "yes: names and ID numbers are codes; no sensitive facts"
         if ctx.pseudonymised else "no"),
        ("Journal entries in the chain", count),
        ("Last entry seq", last_seq),
        ("Last entry hash", last_hash or ""),
        ("Entries dated on or before the as-of date", dated),
        ("How to tie", "run `fsf verify` on the ledger: its last seq and hash must equal the "
         "two lines above"),
        ("Amounts", "riel as whole numbers, dollars to the cent; debits positive"),
    ]
    for item, value in rows:
        table.append((item, value))  # type: ignore[arg-type]
    table.finish()
    return table
