"""Repayment records against the journal: every repayment row is its entry (same loan, date,
cash account and amount), every repayment entry has its row, and every reversal of one has
its reversal row. The journal is hash-chained and the records are not, so a record changed,
added or removed behind the app's back shows up here, named.

The app writes a repayment entry's cash line first, so the whole comparison is one equality
of two lists in entry id order (`ledger.chain.FirstPosting` against `RecordRow`); only when
they differ is each record looked at, and the entries in question read again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ledger.chain import FirstPosting, JournalScan
from ledger.verify_book import Book, RecordRow, fmt_minor

__all__ = ["record_problems"]

def _query(session: Session, sql: str, ids: list[int]) -> list[Any]:
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    rows: list[Any] = []
    try:
        for start in range(0, len(ids), 500):
            chunk = ", ".join(str(int(i)) for i in ids[start:start + 500])
            cursor.execute(sql.format(ids=chunk))
            rows += cursor.fetchall()
    finally:
        cursor.close()
    return rows


def _loan(book: Book, loan_id: int | None) -> str:
    loan = book.loans.get(loan_id) if loan_id is not None else None
    return loan.name if loan else f"loan id {loan_id}"


def _cash_line_problem(name: str, record: RecordRow, seq: int, lines: list[Any]) -> str | None:
    entry_id, _, loan_id, cash_id, amount, currency, _ = record
    cash = [line for line in lines if line[4] is None]  # (account, currency, amount, loan, comp)
    if [(c[0], c[2], c[1], c[3]) for c in cash] == [(cash_id, amount, currency, loan_id)]:
        return None
    took = ", ".join(fmt_minor(c[2], c[1]) + f" in account id {c[0]}" for c in cash)
    return (f"{name} records {fmt_minor(amount, currency)} received in account id {cash_id} but "
            f"its entry {seq} (id {entry_id}) received {took or 'nothing'}")


def _repayment_details(session: Session, scan: JournalScan, book: Book) -> list[str]:
    """Every record that differs from its entry, and every entry without its record."""
    firsts: dict[int, FirstPosting] = {f[0]: f for f in scan.firsts}
    recorded = {r[0] for r in book.records}
    orphans = [f for f in scan.firsts if f[0] not in recorded]
    ids = sorted({r[0] for r in book.records if r != firsts.get(r[0])} | {f[0] for f in orphans})
    seqs = dict(_query(session, "SELECT id, seq FROM journal_entry WHERE id IN ({ids})", ids))
    repayment_ids = dict(_query(session, "SELECT entry_id, id FROM repayment "
                                         "WHERE entry_id IN ({ids})", ids))
    lines: dict[int, list[Any]] = {}
    for row in _query(session, "SELECT entry_id, account_id, currency, amount_minor, loan_id, "
                               "component FROM posting WHERE entry_id IN ({ids}) ORDER BY id", ids):
        lines.setdefault(row[0], []).append(row[1:])
    out: list[str] = []
    seen: set[int] = set()
    for record in book.records:
        entry_id, paid_on, loan_id = record[0], record[1], record[2]
        first = firsts.get(entry_id)
        if first is not None and entry_id not in seen and record == first:
            seen.add(entry_id)
            continue
        name = f"repayment {repayment_ids.get(entry_id, '?')} on {_loan(book, loan_id)}"
        if first is None or entry_id in seen:
            out.append(f"{name}: its journal entry (id {entry_id}) is not a repayment entry "
                       "of its own in the journal")
        elif first[1] != paid_on:
            out.append(f"{name} is dated {paid_on} but its entry {seqs.get(entry_id)} is dated "
                       f"{first[1]}")
        elif first[2] != loan_id:
            out.append(f"{name}: its entry {seqs.get(entry_id)} is for {_loan(book, first[2])}")
        elif problem := _cash_line_problem(name, record, seqs.get(entry_id, 0),
                                           lines.get(entry_id, [])):
            out.append(problem)
        seen.add(entry_id)
    for first in orphans:
        out.append(f"entry {seqs.get(first[0])} (id {first[0]}) records a repayment on "
                   f"{_loan(book, first[2])} that has no repayment record (removed outside "
                   "the app)")
    return out


def _reversal_problems(scan: JournalScan, book: Book) -> list[str]:
    out: list[str] = []
    reversed_entries: set[int] = set()
    for rrid, repayment_id, entry_id, repayment_entry in book.reversals:
        if repayment_entry is None:
            out.append(f"reversal record {rrid} names repayment {repayment_id}, which is not in "
                       "the repayment records")
            continue
        entry = scan.kept.get(entry_id)
        if entry is None or entry[1] != "reversal" or entry[4] != repayment_entry:
            out.append(f"reversal record {rrid} of repayment {repayment_id}: its entry (id "
                       f"{entry_id}) does not reverse the repayment's entry (id "
                       f"{repayment_entry})")
        reversed_entries.add(entry_id)
    repayment_entries = {f[0] for f in scan.firsts}
    for entry_id, (seq, kind, _, _, reverses_id, _) in sorted(scan.kept.items(),
                                                              key=lambda e: e[1][0]):
        if (kind == "reversal" and reverses_id in repayment_entries
                and entry_id not in reversed_entries):
            out.append(f"entry {seq} reverses the entry of a repayment (id {reverses_id}) but no "
                       "reversal record says so (removed outside the app)")
    return out


def record_problems(session: Session, scan: JournalScan, book: Book) -> tuple[list[str], int]:
    """Every disagreement between the repayment and reversal rows and the journal entries
    they name, and the number of rows checked. `scan` must have kept the reversal entries
    and noted the first posting of each repayment entry."""
    out = []
    if book.records != scan.firsts:
        out = _repayment_details(session, scan, book)
    return out + _reversal_problems(scan, book), len(book.records) + len(book.reversals)
