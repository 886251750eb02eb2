"""`fsf verify`'s check of the day totals (`ledger.day_totals`) against the journal.

The totals are a cache the cash checks, balances and dashboards read; the journal is the record.
The pass over the journal has summed each account's postings, and per day and kind a checksum
of how that day's money is spread over the accounts (Σ amount × account id); the day totals
must give both exactly. So a total moved to another account, or to another day of the same
account, shows, without looking up every posting's entry again.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.verify_book import fmt_minor, raw_connection

__all__ = ["day_totals_problems"]


def day_totals_problems(session: Session, posted: dict[int, int],
                        days: dict[tuple[Any, str], int]) -> list[str] | None:
    """What in the day totals disagrees with the postings (`posted`: account id → the sum of
    its postings; `days`: the journal's checksum per (day, kind)), as sentences naming the
    account or the day; None for a ledger older than the totals (a backup taken before an
    upgrade)."""
    if not sa.inspect(session.connection()).has_table("account_day"):
        return None
    cursor = raw_connection(session).cursor()
    try:
        cursor.execute("SELECT id, code, currency FROM account")
        accounts = {int(i): (str(code), str(cur)) for i, code, cur in cursor.fetchall()}
        cursor.execute("SELECT account_id, occurred_on, kind, amount_minor FROM account_day")
        kept: dict[int, int] = {}
        spread: dict[tuple[str, str], int] = {}
        for account_id, day, kind, amount in cursor:
            kept[account_id] = kept.get(account_id, 0) + amount
            key = (str(day), str(kind))
            spread[key] = spread.get(key, 0) + amount * account_id
    finally:
        cursor.close()
    problems = []
    for account_id in sorted(set(kept) | set(posted)):
        cached, summed = kept.get(account_id, 0), posted.get(account_id, 0)
        if cached != summed:
            code, currency = accounts.get(account_id, (str(account_id), ""))
            problems.append(f"account {code}: its day totals say {fmt_minor(cached, currency)}, "
                            f"its postings {fmt_minor(summed, currency)}")
    journal: dict[tuple[str, str], int] = {}
    for (day, kind), weighed in days.items():
        key = (str(day), str(kind))
        journal[key] = journal.get(key, 0) + weighed
    problems += [f"{day}, {kind} entries: the day totals spread the money over other accounts "
                 "or days than the postings do"
                 for day, kind in sorted(set(spread) | set(journal))
                 if spread.get((day, kind), 0) != journal.get((day, kind), 0)]
    return problems
