"""The journal's hash chain: what each entry's hash covers, and the check `fsf verify` runs.

Every entry stores `hash = SHA-256(prev_hash + "\\n" + canonical content)`, where the content is
its own fields and its postings (see `EntryContent.canonical`) and `prev_hash` is the hash of
the entry before it in `seq` order (64 zeros for the first). Editing any hashed field, or
deleting or inserting an entry outside the app, breaks the chain at that entry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.db.tables import GENESIS_HASH, core_table

__all__ = [
    "GENESIS_HASH",
    "BrokenEntry",
    "ChainReport",
    "EntryContent",
    "PostingContent",
    "entry_hash",
    "iso_utc",
    "verify_chain",
]

# Rows fetched per round trip while streaming; bounded memory at any ledger size.
STREAM_BATCH = 2_000


def iso_utc(moment: datetime) -> str:
    """The canonical text of a timestamp: ISO 8601 in UTC with microseconds."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime in the hash chain")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True, order=True)
class PostingContent:
    """The hashed fields of one posting; the field order is the deterministic sort order."""

    account_code: str
    currency: str
    amount_minor: int
    loan_id: int | None
    component: str | None

    def _key(self) -> tuple[str, str, int, int, str]:
        return (
            self.account_code,
            self.currency,
            self.amount_minor,
            -1 if self.loan_id is None else self.loan_id,
            self.component or "",
        )


@dataclass(frozen=True, slots=True)
class EntryContent:
    """Everything an entry's hash covers (reversals are named by the reversed entry's seq)."""

    seq: int
    kind: str
    occurred_on: date
    memo: str
    created_by: str
    created_at: datetime
    loan_id: int | None
    reverses_seq: int | None
    postings: tuple[PostingContent, ...]

    def canonical(self) -> bytes:
        """UTF-8 JSON with sorted keys and postings sorted by (account, currency, amount, ...)."""
        postings = sorted(self.postings, key=PostingContent._key)
        doc = {
            "seq": self.seq,
            "kind": self.kind,
            "occurred_on": self.occurred_on.isoformat(),
            "memo": self.memo,
            "created_by": self.created_by,
            "created_at": iso_utc(self.created_at),
            "loan_id": self.loan_id,
            "reverses_seq": self.reverses_seq,
            "postings": [
                [p.account_code, p.currency, p.amount_minor, p.loan_id, p.component]
                for p in postings
            ],
        }
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.encode("utf-8")


def entry_hash(prev_hash: str, content: EntryContent) -> str:
    """SHA-256 (hex) of the previous hash and this entry's canonical content."""
    digest = hashlib.sha256()
    digest.update(prev_hash.encode("ascii"))
    digest.update(b"\n")
    digest.update(content.canonical())
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class BrokenEntry:
    """The first entry that fails verification, and why, in words a person can act on."""

    seq: int
    entry_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The outcome of `verify_chain`: entries checked, the last hash, the first break if any."""

    entries: int
    last_seq: int | None
    last_hash: str
    broken: BrokenEntry | None

    @property
    def ok(self) -> bool:
        """True when every entry's hash, link and balance checked out."""
        return self.broken is None


def _stream(session: Session) -> Iterator[sa.RowMapping]:
    """Entries joined to their postings, in (seq, posting id) order, as Core rows."""
    je = core_table("journal_entry")
    rev = je.alias("reversed_entry")
    post = core_table("posting")
    acct = core_table("account")
    query = (
        sa.select(
            je.c.id,
            je.c.seq,
            je.c.kind,
            je.c.occurred_on,
            je.c.memo,
            je.c.created_by,
            je.c.created_at,
            je.c.loan_id,
            rev.c.seq.label("reverses_seq"),
            je.c.prev_hash,
            je.c.hash,
            post.c.id.label("posting_id"),
            acct.c.code.label("account_code"),
            post.c.currency,
            post.c.amount_minor,
            post.c.loan_id.label("posting_loan_id"),
            post.c.component,
        )
        .select_from(je)
        .outerjoin(rev, rev.c.id == je.c.reverses_id)
        .outerjoin(post, post.c.entry_id == je.c.id)
        .outerjoin(acct, acct.c.id == post.c.account_id)
        .order_by(je.c.seq, post.c.id)
    )
    result = session.execute(query, execution_options={"yield_per": STREAM_BATCH})
    yield from result.mappings()


def _check_entry(rows: list[sa.RowMapping], prev_hash: str, prev_seq: int | None) -> str | None:
    """Why this entry (all its rows) is broken, or None when it is sound."""
    head = rows[0]
    postings = tuple(
        PostingContent(
            str(r["account_code"]),
            str(r["currency"]),
            int(r["amount_minor"]),
            r["posting_loan_id"],
            r["component"],
        )
        for r in rows
        if r["posting_id"] is not None
    )
    seq = int(head["seq"])
    if prev_seq is not None and seq <= prev_seq:
        return f"seq {seq} does not follow seq {prev_seq}"
    if head["prev_hash"] != prev_hash:
        return (
            "its link to the previous entry is broken (an entry before it was changed, "
            "removed or inserted)"
        )
    content = EntryContent(
        seq=seq,
        kind=str(head["kind"]),
        occurred_on=head["occurred_on"],
        memo=str(head["memo"]),
        created_by=str(head["created_by"]),
        created_at=head["created_at"],
        loan_id=head["loan_id"],
        reverses_seq=head["reverses_seq"],
        postings=postings,
    )
    if entry_hash(prev_hash, content) != head["hash"]:
        return "its content no longer matches its hash (edited outside the app)"
    if len(postings) < 2:
        return f"it has {len(postings)} posting(s); an entry needs at least two"
    sums: dict[str, int] = {}
    for p in postings:
        sums[p.currency] = sums.get(p.currency, 0) + p.amount_minor
    unbalanced = {cur: total for cur, total in sums.items() if total != 0}
    if unbalanced:
        cur, total = sorted(unbalanced.items())[0]
        return f"its {cur} postings do not balance: they sum to {total} minor units, not 0"
    return None


def verify_chain(session: Session) -> ChainReport:
    """Recompute every hash in seq order, check links and per-currency balance; stop at the first
    broken entry. Streams rows, so memory stays flat however large the journal is."""
    prev_hash, prev_seq, count = GENESIS_HASH, None, 0
    current: list[sa.RowMapping] = []

    def finish() -> BrokenEntry | None:
        head = current[0]
        reason = _check_entry(current, prev_hash, prev_seq)
        if reason is None:
            return None
        return BrokenEntry(int(head["seq"]), int(head["id"]), reason)

    for row in _stream(session):
        if current and row["id"] != current[0]["id"]:
            broken = finish()
            if broken is not None:
                return ChainReport(count, prev_seq, prev_hash, broken)
            count += 1
            prev_hash = str(current[0]["hash"])
            prev_seq = int(current[0]["seq"])
            current = []
        current.append(row)
    if current:
        broken = finish()
        if broken is not None:
            return ChainReport(count, prev_seq, prev_hash, broken)
        count += 1
        prev_hash = str(current[0]["hash"])
        prev_seq = int(current[0]["seq"])
    return ChainReport(count, prev_seq, prev_hash, None)
