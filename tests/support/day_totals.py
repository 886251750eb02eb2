"""The day totals (`account_day`) as stored, and as the journal says they must be."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.db.tables import core_table

Totals = dict[tuple[str, date, str], int]


def stored_day_totals(session: Session) -> Totals:
    """(account code, day, kind) → minor units, as `account_day` keeps them."""
    ad, acct = core_table("account_day"), core_table("account")
    return {(code, day, kind): int(total) for code, day, kind, total in session.execute(
        sa.select(acct.c.code, ad.c.occurred_on, ad.c.kind, ad.c.amount_minor)
        .join(acct, acct.c.id == ad.c.account_id))}


def journal_day_totals(session: Session) -> Totals:
    """The same, summed from every posting and its entry."""
    je, post, acct = core_table("journal_entry"), core_table("posting"), core_table("account")
    return {(code, day, kind): int(total) for code, day, kind, total in session.execute(
        sa.select(acct.c.code, je.c.occurred_on, je.c.kind, sa.func.sum(post.c.amount_minor))
        .join(je, je.c.id == post.c.entry_id).join(acct, acct.c.id == post.c.account_id)
        .group_by(acct.c.code, je.c.occurred_on, je.c.kind))}


def assert_day_totals_hold(session: Session) -> None:
    """The stored day totals are exactly the journal's, and there is at least one."""
    stored = stored_day_totals(session)
    assert stored, "no day totals"
    assert stored == journal_day_totals(session)
