"""Repayment records against the journal: every repayment row is its entry (same loan, date,
cash account and amount), every repayment entry has its row, and every reversal of one has
its reversal row. The journal is hash-chained and the records are not, so a record changed,
added or removed behind the app's back shows up here, named.

The app writes a repayment entry's cash line first, and its record in the same order as the
entries, so the comparison is a merge: the journal scan hands each repayment entry's first
posting (`ledger.chain.FirstPosting`) to `RecordMatch.see` as it meets it, which compares it
with the next repayment row from a cursor in entry id order (`RecordRow`). Only what differs
is kept, and the entries in question read again for the messages; memory does not grow with
the number of repayments. When the journal is scanned in parts (`ledger.verify_parts`), each
part has a match of its own over its entry ids' rows, and the first takes in the others'.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy.orm import Session

from ledger.chain import FirstPosting, JournalScan
from ledger.verify_book import RecordRow, fmt_minor, loan_names, raw_connection, rows_of
from ledger.verify_scan import id_range

__all__ = ["MatchState", "RecordMatch", "record_problems"]

_RECORDS = ("SELECT entry_id, paid_on, loan_id, cash_account_id, amount_minor, currency, NULL "
            "FROM repayment{where} ORDER BY entry_id, id")
# What one part's match found, to be taken in by another's (`RecordMatch.state`).
MatchState = tuple[int, dict[str, int], list[tuple[int, RecordRow, FirstPosting | None]],
                   dict[int, FirstPosting]]


def _query(session: Session, sql: str, ids: list[int]) -> list[Any]:
    cursor = raw_connection(session).cursor()
    rows: list[Any] = []
    try:
        for start in range(0, len(ids), 500):
            chunk = ", ".join(str(int(i)) for i in ids[start:start + 500])
            cursor.execute(sql.format(ids=chunk))
            rows += cursor.fetchall()
    finally:
        cursor.close()
    return rows


class RecordMatch:
    """The repayment rows, streamed in entry id order and matched with the repayment entries'
    first postings as the journal scan meets them. Also counts the rows and sums their
    amounts per currency (what the records say came in, before reversals). With `entries`,
    only the rows of entry ids in [lo, hi) (a part of the journal)."""

    def __init__(self, session: Session, batch: int,
                 entries: tuple[int | None, int | None] = (None, None)) -> None:
        self._session, self._batch, self._entries = session, batch, entries
        self._cursor: Any = None
        self._rows: Iterator[RecordRow] = iter(())
        self._rec: RecordRow | None = None
        self.count = 0
        self.totals: dict[str, int] = {}
        # What did not match in order: (row's place, row, the entry's first posting or None)
        self.pairs: list[tuple[int, RecordRow, FirstPosting | None]] = []
        self.orphans: dict[int, FirstPosting] = {}  # entries not (yet) met by a row

    def restart(self) -> Callable[[FirstPosting], object]:
        """Start from the first row (the scan starts a pass, maybe again); returns `see`."""
        self.close()
        connection = self._session.connection()
        raw = raw_connection(self._session)
        self._cursor = (raw.cursor(name="fsf_verify_records", binary=True)
                        if connection.dialect.name == "postgresql" else raw.cursor())
        self._cursor.execute(_RECORDS.format(where=id_range("entry_id", self._entries)))
        self._rows = rows_of(self._cursor, self._batch)
        self._rec = next(self._rows, None)
        self.count = 0
        self.totals = {}
        self.pairs = []
        self.orphans = {}
        return self.see

    def close(self) -> None:
        """Close the cursor (the scan is done, or starts over)."""
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None

    def _take(self) -> RecordRow:
        rec = self._rec
        assert rec is not None
        self.count += 1
        self.totals[rec[5]] = self.totals.get(rec[5], 0) + rec[4]
        self._rec = next(self._rows, None)
        return rec

    def see(self, first: FirstPosting) -> None:
        """One repayment entry's first posting, in the scan's order."""
        if self._rec == first:  # the usual case: the row is its entry
            self._take()
            return
        eid = first[0]
        while self._rec is not None and self._rec[0] < eid:
            self.pairs.append((self.count, self._rec, None))  # a row whose entry is not here
            self._take()
        if self._rec is not None and self._rec[0] == eid:
            if self._rec != first:
                self.pairs.append((self.count, self._rec, first))
            self._take()
        else:
            self.orphans[eid] = first

    def drain(self) -> None:
        """Take the rows left after the last entry, and close the cursor."""
        while self._rec is not None:
            self.pairs.append((self.count, self._rec, None))
            self._take()
        self.close()

    def state(self) -> MatchState:
        """What this match found, drained (to send from one process to another)."""
        self.drain()
        return self.count, self.totals, self.pairs, self.orphans

    def absorb(self, state: MatchState) -> None:
        """Take in the match of the part of the journal after this one's."""
        count, totals, pairs, orphans = state
        self.drain()
        self.pairs += [(self.count + place, rec, first) for place, rec, first in pairs]
        self.count += count
        for currency, amount in totals.items():
            self.totals[currency] = self.totals.get(currency, 0) + amount
        self.orphans.update(orphans)

    def finish(self) -> None:
        """Take the rows left after the last entry; pair rows and entries met out of order."""
        self.drain()
        if not self.orphans:
            return
        paired: list[tuple[int, RecordRow, FirstPosting | None]] = []
        for place, rec, first in self.pairs:
            if first is None and rec[0] in self.orphans:  # its entry came later in the pass
                first = self.orphans.pop(rec[0])
                if rec == first:
                    continue
            paired.append((place, rec, first))
        self.pairs = paired


def _cash_line_problem(name: str, record: RecordRow, seq: int, lines: list[Any]) -> str | None:
    entry_id, _, loan_id, cash_id, amount, currency, _ = record
    cash = [line for line in lines if line[4] is None]  # (account, currency, amount, loan, comp)
    if [(c[0], c[2], c[1], c[3]) for c in cash] == [(cash_id, amount, currency, loan_id)]:
        return None
    took = ", ".join(fmt_minor(c[2], c[1]) + f" in account id {c[0]}" for c in cash)
    return (f"{name} records {fmt_minor(amount, currency)} received in account id {cash_id} but "
            f"its entry {seq} (id {entry_id}) received {took or 'nothing'}")


def _repayment_details(session: Session, match: RecordMatch) -> list[str]:
    """Every record that differs from its entry, and every entry without its record."""
    pairs = sorted(match.pairs, key=lambda p: (p[1][0], p[0]))
    orphans = sorted(match.orphans.values())
    ids = sorted({p[1][0] for p in pairs} | {f[0] for f in orphans})
    seqs = dict(_query(session, "SELECT id, seq FROM journal_entry WHERE id IN ({ids})", ids))
    repayment_ids = dict(_query(session, "SELECT entry_id, id FROM repayment "
                                         "WHERE entry_id IN ({ids})", ids))
    lines: dict[int, list[Any]] = {}
    for row in _query(session, "SELECT entry_id, account_id, currency, amount_minor, loan_id, "
                               "component FROM posting WHERE entry_id IN ({ids}) ORDER BY id", ids):
        lines.setdefault(row[0], []).append(row[1:])
    names = loan_names(session, {p[1][2] for p in pairs} | {p[2][2] for p in pairs if p[2]}
                       | {f[2] for f in orphans})

    def loan(loan_id: int | None) -> str:
        return names.get(loan_id, f"loan id {loan_id}") if loan_id is not None else \
            f"loan id {loan_id}"

    out: list[str] = []
    for _, record, first in pairs:
        entry_id, paid_on, loan_id = record[0], record[1], record[2]
        name = f"repayment {repayment_ids.get(entry_id, '?')} on {loan(loan_id)}"
        if first is None:
            out.append(f"{name}: its journal entry (id {entry_id}) is not a repayment entry "
                       "of its own in the journal")
        elif first[1] != paid_on:
            out.append(f"{name} is dated {paid_on} but its entry {seqs.get(entry_id)} is dated "
                       f"{first[1]}")
        elif first[2] != loan_id:
            out.append(f"{name}: its entry {seqs.get(entry_id)} is for {loan(first[2])}")
        elif problem := _cash_line_problem(name, record, seqs.get(entry_id, 0),
                                           lines.get(entry_id, [])):
            out.append(problem)
    for first in orphans:
        out.append(f"entry {seqs.get(first[0])} (id {first[0]}) records a repayment on "
                   f"{loan(first[2])} that has no repayment record (removed outside "
                   "the app)")
    return out


def _reversal_problems(session: Session, scan: JournalScan,
                       reversals: list[tuple[int, int, int, int | None]]) -> list[str]:
    out: list[str] = []
    reversed_entries: set[int] = set()
    for rrid, repayment_id, entry_id, repayment_entry in reversals:
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
    unrecorded = sorted((seq, entry_id, reverses_id)
                        for entry_id, (seq, kind, _, _, reverses_id, _) in scan.kept.items()
                        if kind == "reversal" and entry_id not in reversed_entries
                        and reverses_id is not None)
    # Which of the entries they reverse are repayment entries (with a posting, as the scan
    # notes them): a few ids, read again rather than every repayment entry kept.
    repayment_entries = {int(i) for (i,) in _query(
        session, "SELECT e.id FROM journal_entry e WHERE e.id IN ({ids}) AND e.kind = "
                 "'repayment' AND EXISTS (SELECT 1 FROM posting p WHERE p.entry_id = e.id)",
        sorted({r for _, _, r in unrecorded}))}
    for seq, _, reverses_id in unrecorded:
        if reverses_id in repayment_entries:
            out.append(f"entry {seq} reverses the entry of a repayment (id {reverses_id}) but no "
                       "reversal record says so (removed outside the app)")
    return out


def record_problems(session: Session, scan: JournalScan, match: RecordMatch,
                    reversals: list[tuple[int, int, int, int | None]]) -> tuple[list[str], int]:
    """Every disagreement between the repayment and reversal rows and the journal entries
    they name, and the number of rows checked. `scan` must have kept the reversal entries
    and sent the first posting of each repayment entry to `match`, which is finished here;
    `reversals` are (id, repayment id, entry id, the repayment's entry id or None)."""
    match.finish()
    out = []
    if match.pairs or match.orphans:
        out = _repayment_details(session, match)
    return out + _reversal_problems(session, scan, reversals), match.count + len(reversals)
