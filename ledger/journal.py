"""Posting to the double-entry journal: balanced entries, reversals, balances from SQL.

Every money event goes through `append_entry` (or `post_entry`, which also hands back the
entry as an ORM object). It checks balance in one place (`check_balanced`), serialises appends
to the hash chain (SQLite: the connection began with `BEGIN IMMEDIATE`; PostgreSQL: a
transaction-scoped advisory lock), and writes without committing: the calling service commits
once per use case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.util import identity_key

from ledger.chain import EntryContent, PostingContent, entry_hash
from ledger.day_totals import account_day_sum, add_day_totals, day_sums
from ledger.db.tables import (
    COMPONENTS,
    GENESIS_HASH,
    Account,
    JournalEntry,
    core_table,
    insert_row,
    utc_now,
)
from ledger.money import Money, get_currency

__all__ = [
    "CHAIN_LOCK_KEY",
    "ChainTip",
    "JournalError",
    "Line",
    "UnbalancedEntry",
    "append_entry",
    "balance",
    "balances_by_account",
    "chain_tip_columns",
    "check_balanced",
    "lock_chain",
    "post_entry",
    "reverse_entry",
]

# pg_advisory_xact_lock key for appends to the chain ("FSFJRNL" as a number; any constant works
# as long as every writer uses the same one).
CHAIN_LOCK_KEY = 0x46_53_46_4A_52_4E_4C
# session.info key: (root transaction, savepoint or None) in which the chain lock was taken.
_CHAIN_LOCKED = "fsf_chain_locked"


class JournalError(ValueError):
    """An entry that cannot be posted, with a message a person can act on."""


class UnbalancedEntry(JournalError):
    """Postings whose amounts do not sum to zero in some currency."""

    def __init__(self, currency: str, difference: Money) -> None:
        self.currency = currency
        self.difference = difference
        super().__init__(
            f"entry does not balance in {currency}: debits exceed credits by {difference.plain()}"
            if difference.amount > 0
            else f"entry does not balance in {currency}: credits exceed debits by "
            f"{(-difference).plain()}"
        )


@dataclass(frozen=True, slots=True)
class Line:
    """One posting to be made: debit positive, credit negative, in the account's currency."""

    account_id: int
    amount: Money
    loan_id: int | None = None
    component: str | None = None


def check_balanced(lines: Sequence[Line]) -> None:
    """Refuse an entry that cannot be posted: fewer than two lines, a zero line, an unknown
    component, or postings that do not sum to zero per currency. The one balance check."""
    if len(lines) < 2:
        raise JournalError(f"an entry needs at least two lines, got {len(lines)}")
    totals: dict[str, Money] = {}
    for number, line in enumerate(lines, start=1):
        if not isinstance(line.amount, Money):
            raise TypeError(f"line {number}: amount must be Money")
        if line.amount.amount == 0:
            raise JournalError(f"line {number}: a zero amount posts nothing")
        if line.component is not None and line.component not in COMPONENTS:
            raise JournalError(
                f"line {number}: component {line.component!r} is not one of {', '.join(COMPONENTS)}"
            )
        code = line.amount.currency.code
        totals[code] = totals[code] + line.amount if code in totals else line.amount
    for code in sorted(totals):
        if totals[code].amount != 0:
            raise UnbalancedEntry(code, totals[code])


def lock_chain(session: Session) -> None:
    """Make this transaction the only one appending to the chain until it ends.

    PostgreSQL: `pg_advisory_xact_lock`, released at commit or rollback, requested once per
    transaction (a service and the `post_entry` it calls share it). SQLite: nothing to do,
    since every ledger transaction began with `BEGIN IMMEDIATE` (see `ledger.db.engine`).
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    conn = session.connection()
    held = session.info.get(_CHAIN_LOCKED)
    root = conn.get_transaction()
    if (held is not None and root is not None and held[0] is root and root.is_active
            and (held[1] is None or held[1].is_active)):
        return  # this very transaction took the lock and still holds it: skip a round trip
    session.execute(sa.select(sa.func.pg_advisory_xact_lock(CHAIN_LOCK_KEY)))
    # Held until the transaction ends, or until the savepoint it was taken in rolls back;
    # a savepoint released since makes the check above fail, and the lock is simply re-taken.
    session.info[_CHAIN_LOCKED] = (root, conn.get_nested_transaction())


def _accounts(session: Session, ids: set[int]) -> dict[int, tuple[str, str]]:
    # Accounts never change once made: one already loaded in the session (code and currency
    # not expired) needs no query; only the others are read.
    out: dict[int, tuple[str, str]] = {}
    for account_id in ids:
        loaded = session.identity_map.get(identity_key(Account, account_id))
        values = loaded.__dict__ if loaded is not None else {}
        if "code" in values and "currency" in values:
            out[account_id] = (str(values["code"]), str(values["currency"]))
    missing = ids - out.keys()
    if missing:
        acct = core_table("account")
        rows = session.execute(
            sa.select(acct.c.id, acct.c.code, acct.c.currency)
            .where(acct.c.id.in_(sorted(missing)))
        ).all()
        out.update((int(r[0]), (str(r[1]), str(r[2]))) for r in rows)
    return out


# The chain's last (seq, hash) as a caller read it: (None, None) when the chain is empty.
ChainTip = tuple[int | None, str | None]


def chain_tip_columns() -> tuple[sa.ScalarSelect[Any], sa.ScalarSelect[Any]]:
    """The chain's last seq and hash as scalar subqueries, for a caller that reads them in a
    query of its own after `lock_chain` and hands them to `append_entry` as `tip`."""
    je = core_table("journal_entry")
    seq = sa.select(je.c.seq).order_by(je.c.seq.desc()).limit(1).scalar_subquery()
    last = sa.select(je.c.hash).order_by(je.c.seq.desc()).limit(1).scalar_subquery()
    return seq, last


def post_entry(
    session: Session,
    *,
    kind: str,
    occurred_on: date,
    memo: str,
    by: str,
    lines: Sequence[Line],
    loan_id: int | None = None,
    reverses_id: int | None = None,
    at: datetime | None = None,
) -> JournalEntry:
    """Append one balanced entry with its postings to the chain; flush, never commit.

    Refuses (before writing anything) unbalanced or malformed lines, unknown accounts, a line
    whose currency is not its account's, and an empty memo or author.
    """
    entry_id, values = append_entry(session, kind=kind, occurred_on=occurred_on, memo=memo,
                                    by=by, lines=lines, loan_id=loan_id,
                                    reverses_id=reverses_id, at=at)
    # The row is stored; attach it to the session as such (no second write, no reload).
    entry = JournalEntry(id=entry_id, **values)
    make_transient_to_detached(entry)
    session.add(entry)
    return entry


def append_entry(
    session: Session,
    *,
    kind: str,
    occurred_on: date,
    memo: str,
    by: str,
    lines: Sequence[Line],
    loan_id: int | None = None,
    reverses_id: int | None = None,
    at: datetime | None = None,
    tip: ChainTip | None = None,
) -> tuple[int, dict[str, Any]]:
    """`post_entry` without the ORM object, for the interactive path: the new entry's id and
    column values. Core inserts: there the ORM's unit of work costs more than the inserts.

    `tip` is the chain's last (seq, hash) as read in this transaction after `lock_chain`
    (`chain_tip_columns`), sparing a round trip; a stale one cannot fork the chain, since the
    database refuses a second entry with the same seq.
    """
    check_balanced(lines)
    if not memo.strip():
        raise JournalError("an entry needs a memo saying why it was made")
    if not by.strip():
        raise JournalError("an entry needs the name of who made it")
    created_at = at if at is not None else utc_now()
    if created_at.tzinfo is None:
        raise JournalError("`at` must be timezone-aware")
    accounts = _accounts(session, {line.account_id for line in lines})
    for number, line in enumerate(lines, start=1):
        # A loan's sums are read by the entries of that loan (`bulk_inputs.booked_minor`).
        if line.loan_id is not None and line.loan_id != loan_id:
            raise JournalError(f"line {number}: for loan id {line.loan_id} in an entry "
                               f"{'of loan id ' + str(loan_id) if loan_id else 'of no loan'}")
        if line.account_id not in accounts:
            raise JournalError(f"line {number}: no account with id {line.account_id}")
        code, currency = accounts[line.account_id]
        if get_currency(currency) != line.amount.currency:
            raise JournalError(
                f"line {number}: account {code} keeps {currency}, not {line.amount.currency.code}"
            )

    lock_chain(session)
    session.flush()  # pending ORM writes go first, inside the lock
    je = core_table("journal_entry")
    if tip is None:
        row = session.execute(
            sa.select(je.c.seq, je.c.hash).order_by(je.c.seq.desc()).limit(1)
        ).first()
        tip = (None, None) if row is None else (int(row[0]), str(row[1]))
    seq, prev_hash = (1, GENESIS_HASH) if tip[0] is None else (int(tip[0]) + 1, str(tip[1]))
    reverses_seq: int | None = None
    if reverses_id is not None:
        reverses_seq = session.execute(
            sa.select(je.c.seq).where(je.c.id == reverses_id)
        ).scalar_one_or_none()
        if reverses_seq is None:
            raise JournalError(f"no journal entry with id {reverses_id} to reverse")

    content = EntryContent(
        seq=seq,
        kind=kind,
        occurred_on=occurred_on,
        memo=memo,
        created_by=by,
        created_at=created_at,
        loan_id=loan_id,
        reverses_seq=reverses_seq,
        postings=tuple(
            PostingContent(
                accounts[line.account_id][0],
                line.amount.currency.code,
                line.amount.minor,
                line.loan_id,
                line.component,
            )
            for line in lines
        ),
    )
    values: dict[str, Any] = {
        "seq": seq, "kind": kind, "occurred_on": occurred_on, "memo": memo, "created_by": by,
        "created_at": created_at, "reverses_id": reverses_id, "loan_id": loan_id,
        "prev_hash": prev_hash, "hash": entry_hash(prev_hash, content),
    }
    entry_id = insert_row(session, "journal_entry", values)
    # Postings go in as one Core executemany: no ORM object per line on the hot path.
    session.execute(
        sa.insert(core_table("posting")),
        [
            {
                "entry_id": entry_id,
                "account_id": line.account_id,
                "currency": line.amount.currency.code,
                "amount_minor": line.amount.minor,
                "loan_id": line.loan_id,
                "component": line.component,
            }
            for line in lines
        ],
    )
    add_day_totals(session, day_sums([(line.account_id, line.amount.minor) for line in lines],
                                     occurred_on, kind, {}))
    return entry_id, values


def reverse_entry(
    session: Session,
    *,
    entry_id: int,
    memo: str,
    by: str,
    occurred_on: date,
    at: datetime | None = None,
) -> JournalEntry:
    """Post the exact opposite of an entry (every posting negated), linked by `reverses_id`.

    Refuses to reverse a reversal or an entry already reversed (the database's unique
    `reverses_id` backs the second rule). Flushes, never commits.
    """
    lock_chain(session)  # so that "not yet reversed" stays true until this transaction ends
    original = session.get(JournalEntry, entry_id)
    if original is None:
        raise JournalError(f"no journal entry with id {entry_id}")
    if original.reverses_id is not None:
        raise JournalError(
            f"entry {original.seq} is itself a reversal; post a new entry instead of reversing it"
        )
    je, post = core_table("journal_entry"), core_table("posting")
    already = session.execute(
        sa.select(je.c.seq).where(je.c.reverses_id == entry_id)
    ).scalar_one_or_none()
    if already is not None:
        raise JournalError(f"entry {original.seq} was already reversed by entry {already}")
    postings = session.execute(
        sa.select(
            post.c.account_id,
            post.c.currency,
            post.c.amount_minor,
            post.c.loan_id,
            post.c.component,
        )
        .where(post.c.entry_id == entry_id)
        .order_by(post.c.id)
    ).all()
    lines = [Line(int(p[0]), Money.from_minor(-int(p[2]), str(p[1])), p[3], p[4]) for p in postings]
    return post_entry(
        session,
        kind="reversal",
        occurred_on=occurred_on,
        memo=memo,
        by=by,
        lines=lines,
        loan_id=original.loan_id,
        reverses_id=entry_id,
        at=at,
    )


def balance(session: Session, account_id: int, *, as_of: date | None = None) -> Money:
    """An account's balance (debits positive): its day totals summed by the database.

    `as_of` counts entries that occurred on or before that day.
    """
    acct = core_table("account")
    currency = session.execute(
        sa.select(acct.c.currency).where(acct.c.id == account_id)
    ).scalar_one_or_none()
    if currency is None:
        raise JournalError(f"no account with id {account_id}")
    row = session.execute(account_day_sum([account_id], as_of)).first()
    return Money.from_minor(0 if row is None else int(row.balance), currency)


def balances_by_account(session: Session, as_of: date | None = None) -> dict[int, Money]:
    """Every account's balance that has postings, keyed by account id, from the day totals."""
    acct = core_table("account")
    sums = account_day_sum(None, as_of).subquery()
    query = sa.select(sums.c.account_id, acct.c.currency, sums.c.balance).join(
        acct, acct.c.id == sums.c.account_id)
    return {
        int(account_id): Money.from_minor(int(total), str(currency))
        for account_id, currency, total in session.execute(query)
    }
