"""The journal's hash chain: what each entry's hash covers, and the check `fsf verify` runs.

Every entry stores `hash = SHA-256(prev_hash + "\\n" + canonical content)`, where the content is
its own fields and its postings (see `EntryContent.canonical`) and `prev_hash` is the hash of
the entry before it in `seq` order (64 zeros for the first). Editing any hashed field, or
deleting or inserting an entry outside the app, breaks the chain at that entry.

`scan_journal` checks the chain in one streamed pass (`ledger.verify_scan`) and, from the same
rows, sums every posting by account, currency and loan for the other checks of `fsf verify`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from ledger.db.tables import GENESIS_HASH

__all__ = [
    "GENESIS_HASH",
    "BrokenEntry",
    "ChainReport",
    "EntryContent",
    "FirstPosting",
    "JournalScan",
    "PostingContent",
    "PostingRow",
    "entry_hash",
    "iso_utc",
    "scan_journal",
    "verify_chain",
]

# Rows fetched per round trip while streaming; bounded memory at any ledger size.
STREAM_BATCH = 2_000

# (entry id, account id, currency, amount in minor units, loan id, component): one posting as
# the scan reads it.
PostingRow = tuple[int, int, str, int, int | None, str | None]


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
    """The first entry that fails verification, and why, in words a person can act on.

    `seq` is 0 when what broke is a posting that belongs to no entry at all."""

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


# (entry id, occurred on (ISO text on SQLite, a `date` on PostgreSQL), entry's loan id, then
# its first posting's account id, amount, currency and component): what `scan_journal` notes
# of each entry of `first_of` kinds.
FirstPosting = tuple[int, str | date, int | None, int, int, str, str | None]


@dataclass(frozen=True, slots=True)
class JournalScan:
    """One pass over the journal: the chain's verdict; every posting summed by (account id,
    currency, loan id), all of them even past a break; the entries of the `keep` kinds by
    entry id, as (seq, kind, occurred on, loan id, reverses id, postings);
    for the `first_of` kinds, each entry's first posting, in entry id order; and per (occurred
    on, kind), Σ amount × account id over its postings: a checksum of how each day's money is
    spread over the accounts, which the day totals (`ledger.day_totals`) must give too."""

    chain: ChainReport
    sums: dict[tuple[int, str, int | None], int]
    kept: dict[int, tuple[int, str, Any, int | None, int | None, tuple[PostingRow, ...]]]
    firsts: list[FirstPosting]
    days: dict[tuple[Any, str], int] = field(default_factory=dict)


def scan_journal(session: Session, keep: frozenset[str] = frozenset(),
                 first_of: frozenset[str] = frozenset()) -> JournalScan:
    """Recompute every hash in seq order, check links and per-currency balance, and sum the
    postings; the first broken entry is named. Streams rows, so memory stays flat however
    large the journal is (apart from what it keeps of the `keep` and `first_of` kinds)."""
    from ledger.verify_scan import scan  # imports this module: imported here, not at the top

    return scan(session, keep, first_of, STREAM_BATCH)


def verify_chain(session: Session) -> ChainReport:
    """Recompute every hash in seq order, check links and per-currency balance; name the
    first broken entry."""
    return scan_journal(session).chain
