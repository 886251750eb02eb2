"""The villages overview: each village's families, active loans and outstanding principal, and
one village's families with their latest loan, by SQL aggregation. (The dashboard's figures are
in `tui.screens.data.dashboard`.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.actor import Actor
from ledger.db.tables import core_table
from ledger.money import KHR, Money
from tui.screens.data.scope import require_village, village_filters

__all__ = ["VillageLine", "village_families", "villages"]


@dataclass(frozen=True, slots=True)
class VillageLine:
    """A village's families, active loans and the principal they still owe."""

    id: int
    name: str
    name_kh: str
    families: int
    active: int
    outstanding: Money


def villages(session: Session, as_of: date, *, actor: Actor) -> list[VillageLine]:
    """Every village with families in the ledger that `actor` sees, with its loans'
    outstanding principal. Each sum is narrowed to her villages before it is taken: a
    treasurer's few villages are read alone, not summed with every other village first."""
    vil, fam, loan = core_table("village"), core_table("family"), core_table("loan")
    mine = village_filters(actor, fam.c.village_id)
    by_loan = _owed_by_loan(actor, as_of, session.get_bind().dialect.name)
    owed = (sa.select(fam.c.village_id, sa.func.sum(by_loan.c.owed).label("owed"))
            .select_from(by_loan.join(loan, loan.c.id == by_loan.c.loan_id)
                         .join(fam, fam.c.id == loan.c.family_id))
            .where(*mine).group_by(fam.c.village_id).subquery())
    active = (sa.select(fam.c.village_id, sa.func.count(loan.c.id).label("n"))
              .join(loan, loan.c.family_id == fam.c.id).where(loan.c.status == "active", *mine)
              .group_by(fam.c.village_id).subquery())
    counts = (sa.select(fam.c.village_id, sa.func.count(fam.c.id).label("n")).where(*mine)
              .group_by(fam.c.village_id).subquery())
    rows = session.execute(
        sa.select(vil.c.id, vil.c.name_en, vil.c.name_kh, counts.c.n, active.c.n, owed.c.owed)
        .join(counts, counts.c.village_id == vil.c.id)
        .outerjoin(active, active.c.village_id == vil.c.id)
        .outerjoin(owed, owed.c.village_id == vil.c.id).order_by(vil.c.name_en)).all()
    return [VillageLine(int(i), en, kh, int(n), int(a or 0), Money.from_minor(int(o or 0), KHR))
            for i, en, kh, n, a, o in rows]


def _owed_by_loan(actor: Actor, as_of: date, dialect: str) -> sa.Subquery:
    """Per loan the actor sees, what its portfolio postings add up to at the end of `as_of`.
    Summed loan by loan over the posting index by loan, which holds the account, the amount
    and the entry, so no posting row is read; the entries dated after the day, none or a
    few when it is today, are left out (`posted_by`). At a million loans: 2.6-4.3 s, where
    starting from the portfolio account's postings and looking each one up with its entry
    took 12-21 s. A limited user's loans are found one by one in the same index."""
    from ledger.reports.scope import posted_by

    post, acct = core_table("posting"), core_table("account")
    portfolio = sa.select(acct.c.id).where(acct.c.role == "loan_portfolio")
    # "+ 0": SQLite must not start from the account's index, which would look up every
    # posting; PostgreSQL chooses by its statistics, which the "+ 0" would blind.
    account_id = post.c.account_id + 0 if dialect == "sqlite" else post.c.account_id
    query = (sa.select(post.c.loan_id, sa.func.sum(post.c.amount_minor).label("owed"))
             .where(post.c.loan_id.is_not(None), account_id.in_(portfolio),
                    posted_by(post.c.entry_id, as_of, dialect))
             .group_by(post.c.loan_id))
    if actor.villages is not None:
        loan, fam = core_table("loan"), core_table("family")
        query = query.where(post.c.loan_id.in_(
            sa.select(loan.c.id).join(fam, fam.c.id == loan.c.family_id)
            .where(*village_filters(actor, fam.c.village_id))))
    return query.subquery("owed_by_loan")


def village_families(session: Session, village_id: int, *,
                     actor: Actor) -> list[tuple[int, tuple[str, ...]]]:
    """A village's families with their latest loan: (family id, cells); NotFound for a
    village outside the actor's."""
    require_village(session, actor, village_id)
    fam, loan = core_table("family"), core_table("loan")
    latest = (sa.select(loan.c.family_id, sa.func.max(loan.c.id).label("loan_id"))
              .group_by(loan.c.family_id).subquery())
    rows = session.execute(
        sa.select(fam.c.id, fam.c.ref, fam.c.head_name_latin, fam.c.head_name, loan.c.ref,
                  loan.c.status, loan.c.principal_minor, loan.c.currency)
        .outerjoin(latest, latest.c.family_id == fam.c.id)
        .outerjoin(loan, loan.c.id == latest.c.loan_id)
        .where(fam.c.village_id == village_id).order_by(fam.c.ref)).all()
    return [(int(i), (ref, latin or name, lref or "", status or "",
                      str(Money.from_minor(int(p), cur)) if p is not None else "", name))
            for i, ref, latin, name, lref, status, p, cur in rows]
