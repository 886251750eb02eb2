"""The journal, newest entry first, a page at a time, and one entry's postings. The journal
holds every village's entries (their memos name the families), so a user limited to some
villages is shown none, as the fund position is refused to her (`WholeFundOnly`)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.actor import Actor
from ledger.db.tables import core_table
from ledger.money import Money

__all__ = ["entry_count", "entry_postings", "entry_rows"]


def entry_count(session: Session, *, actor: Actor) -> int:
    """How many entries the journal holds (none for a user limited to some villages)."""
    if actor.villages is not None:
        return 0
    return int(session.execute(
        sa.select(sa.func.count()).select_from(core_table("journal_entry"))).scalar_one())


def entry_rows(session: Session, offset: int, limit: int, *,
               actor: Actor) -> list[tuple[int, tuple[str, ...]]]:
    """One page of entries, newest (highest sequence) first: seq, date, kind, amount, who, memo
    (none for a user limited to some villages)."""
    if actor.villages is not None:
        return []
    je, post = core_table("journal_entry"), core_table("posting")
    page = (sa.select(je.c.id, je.c.seq, je.c.occurred_on, je.c.kind, je.c.created_by, je.c.memo)
            .order_by(je.c.seq.desc()).offset(offset).limit(limit).subquery())
    debits = (sa.select(post.c.entry_id, post.c.currency,
                        sa.func.sum(post.c.amount_minor).label("total"))
              .where(post.c.amount_minor > 0, post.c.entry_id.in_(sa.select(page.c.id)))
              .group_by(post.c.entry_id, post.c.currency).subquery())
    rows = session.execute(
        sa.select(page, debits.c.currency, debits.c.total)
        .outerjoin(debits, debits.c.entry_id == page.c.id).order_by(page.c.seq.desc())
    ).all()
    return [(int(i), (str(seq), str(on), kind,
                      str(Money.from_minor(int(total), cur)) if total is not None else "",
                      who, memo))
            for i, seq, on, kind, who, memo, cur, total in rows]


def entry_postings(session: Session, entry_id: int) -> list[tuple[str, str, str, str]]:
    """An entry's postings: account code, debit, credit, component."""
    post, acct = core_table("posting"), core_table("account")
    rows = session.execute(
        sa.select(acct.c.code, post.c.amount_minor, post.c.currency, post.c.component)
        .join(acct, acct.c.id == post.c.account_id).where(post.c.entry_id == entry_id)
        .order_by(post.c.id)).all()
    out = []
    for code, minor, cur, component in rows:
        amount = str(Money.from_minor(abs(int(minor)), cur))
        out.append((code, amount if minor > 0 else "", amount if minor < 0 else "",
                    component or ""))
    return out
