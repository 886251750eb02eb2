"""The dashboard's figures, in parts a worker computes one after another so the screen fills
in as each is ready: what waits for someone, what falls due this month, the fund's cash, money
lent and collected by month, the portfolio report's figures, and the loans at risk.

The portfolio figures are `ledger.reports.portfolio_quality`'s, the cash is
`fund_position`'s: the dashboard shows what `fsf report portfolio` and `fsf report fund` print
for the same day. Only riel loans are counted (the fund lends in riel). Reports are imported
inside the functions, so opening the dashboard imports none of them on the UI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.actor import Actor
from ledger.db.tables import core_table
from ledger.money import KHR, Money
from tui.screens.data.scope import from_her_families

__all__ = ["AtRisk", "Attention", "Quality", "Waiting", "at_risk", "due_this_month",
           "fund_cash", "ledger_stamp", "monthly_flows", "portfolio_figures", "waiting"]

CURRENCY = KHR.code
WAITING_SHOWN = 20  # loans awaiting approval or disbursement listed by name
AT_RISK_SHOWN = 50  # loans at risk listed by name (the count says how many there are)


@dataclass(frozen=True, slots=True)
class Attention:
    """Something that needs a person: kind, who, and a line saying why."""

    kind: str
    target_id: int
    label: str
    why: str


@dataclass(frozen=True, slots=True)
class Waiting:
    """What waits for a person: queued approvals, and loans applied or approved but not yet
    paid out (the first `WAITING_SHOWN`, oldest first, and how many in all)."""

    approvals: int
    loans: tuple[Attention, ...]
    loans_total: int


@dataclass(frozen=True, slots=True)
class Quality:
    """The portfolio report's figures as of a day (`fsf report portfolio`), as shown."""

    period_start: date
    portfolio: Money
    active_loans: int
    par30: Money
    par30_loans: int
    par30_rate: str
    on_time_rate: str
    paid_on_time: Money
    due_in_period: Money
    repaid_rate: str


@dataclass(frozen=True, slots=True)
class AtRisk:
    """The loans the PAR counts (oldest arrears first, then renegotiated loans that are not
    late), the first `AT_RISK_SHOWN` of them and how many in all."""

    loans: tuple[Attention, ...]
    total: int


def _scope(actor: Actor) -> list[sa.ColumnElement[bool]]:
    from ledger.reports.scope import loan_filters

    return loan_filters(actor, currency=CURRENCY)


def ledger_stamp(session: Session) -> tuple[int, int, int]:
    """A cheap mark of the ledger's state (newest journal entry, newest loan, newest pending
    approval, each by primary key): when it has not moved, the figures have not changed."""
    def top(table: str) -> int:
        t = core_table(table)
        return int(session.execute(sa.select(sa.func.max(t.c.id))).scalar() or 0)

    return top("journal_entry"), top("loan"), top("pending_approval")


def waiting(session: Session, actor: Actor) -> Waiting:
    """Approvals waiting for an approver, and loans applied or approved but not disbursed."""
    from ledger.approvals import list_pending

    ln, fam = core_table("loan"), core_table("family")
    where = [ln.c.status.in_(("applied", "approved")), *_scope(actor)]
    rows = session.execute(
        sa.select(ln.c.id, ln.c.ref, ln.c.status, fam.c.ref, fam.c.head_name_latin,
                  fam.c.head_name, sa.func.count().over().label("total"))
        .join(fam, fam.c.id == ln.c.family_id).where(*where)
        .order_by(ln.c.id).limit(WAITING_SHOWN)).all()
    loans = tuple(Attention("loan", int(i), f"{fr} {latin or name}",
                            f"{ref} awaiting {'approval' if st == 'applied' else 'disbursement'}")
                  for i, ref, st, fr, latin, name, _ in rows)
    return Waiting(len(list_pending(session, actor=actor)), loans,
                   int(rows[0].total) if rows else 0)


def due_this_month(session: Session, actor: Actor, as_of: date) -> Money:
    """What the schedules in force ask, in `as_of`'s month, of the loans disbursed and still
    open on `as_of` (riel), whether or not it was paid."""
    ls, si = core_table("loan_schedule"), core_table("schedule_installment")
    ln, fam = core_table("loan"), core_table("family")
    newer = ls.alias("newer")
    first = as_of.replace(day=1)
    after = date(as_of.year + (as_of.month == 12), as_of.month % 12 + 1, 1)
    total = session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(si.c.principal_minor + si.c.interest_minor
                                               + si.c.fee_minor), 0))
        .select_from(si.join(ls, ls.c.id == si.c.schedule_id)
                     .join(ln, ln.c.id == ls.c.loan_id).join(fam, fam.c.id == ln.c.family_id))
        .where(ln.c.disbursed_on <= as_of,
               sa.or_(ln.c.closed_on.is_(None), ln.c.closed_on > as_of),
               sa.or_(ln.c.written_off_on.is_(None), ln.c.written_off_on > as_of),
               ~sa.exists().where(newer.c.loan_id == ls.c.loan_id,
                                  newer.c.version > ls.c.version,
                                  newer.c.created_on <= as_of),
               si.c.due_date >= first, si.c.due_date < after, *_scope(actor))).scalar_one()
    return Money.from_minor(int(total), KHR)


def fund_cash(session: Session, actor: Actor, as_of: date) -> Money | None:
    """The riel fund's cash (main cash and cash boxes) at the end of `as_of`, as the fund
    position report has it; None for a user limited to some villages (the report refuses)."""
    from ledger.day_totals import account_day_sum
    from ledger.services.setup import DEFAULT_FUND

    if actor.villages is not None:
        return None
    acct, fund = core_table("account"), core_table("fund")
    cash = (sa.select(acct.c.id).join(fund, fund.c.id == acct.c.fund_id)
            .where(fund.c.code == DEFAULT_FUND, acct.c.role.in_(("cash", "cash_box"))))
    # From the day totals (`ledger.day_totals`): at a million loans the cash postings took
    # 3-7 s to sum.
    balances = session.execute(account_day_sum(cash, as_of)).all()
    return Money.from_minor(sum(int(row.balance) for row in balances), KHR)


def monthly_flows(session: Session, actor: Actor, as_of: date,
                  months: int = 12) -> tuple[tuple[str, Money, Money], ...]:
    """Money lent and collected (riel) per month for the `months` months up to `as_of`
    (a user limited to some villages sees their loans' only)."""
    y, m = as_of.year, as_of.month - months + 1
    while m < 1:
        y, m = y - 1, m + 12
    start = date(y, m, 1)
    lent: dict[tuple[int, int], int] = {}
    got: dict[tuple[int, int], int] = {}
    for yy, mm, kind, total in session.execute(_flows_query(actor, start, as_of)).all():
        target = lent if kind == "disbursement" else got
        target[(int(yy), int(mm))] = target.get((int(yy), int(mm)), 0) + abs(int(total))
    out = []
    for _ in range(months):
        out.append((f"{y}-{m:02d}", Money.from_minor(lent.get((y, m), 0), KHR),
                    Money.from_minor(got.get((y, m), 0), KHR)))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return tuple(out)


def _flows_query(actor: Actor, start: date, as_of: date) -> Any:
    """(year, month, kind, cash moved) of loans' money through the riel cash accounts. The
    whole fund's comes from the day totals (`ledger.day_totals`; from the postings it took
    8 s at a million loans); a user limited to some villages sums her families' postings."""
    acct, kinds = core_table("account"), ("disbursement", "repayment", "recovery")
    if actor.villages is None:
        ad = core_table("account_day")
        year, month = sa.extract("year", ad.c.occurred_on), sa.extract("month", ad.c.occurred_on)
        return (sa.select(year, month, ad.c.kind, sa.func.sum(ad.c.amount_minor))
                .join(acct, acct.c.id == ad.c.account_id)
                .where(acct.c.role.in_(("cash", "cash_box")), acct.c.currency == CURRENCY,
                       ad.c.kind.in_(kinds), ad.c.occurred_on >= start,
                       ad.c.occurred_on <= as_of)
                .group_by(year, month, ad.c.kind))
    post, je = core_table("posting"), core_table("journal_entry")
    ln, fam = core_table("loan"), core_table("family")
    year, month = sa.extract("year", je.c.occurred_on), sa.extract("month", je.c.occurred_on)
    account_id = from_her_families(post.c.account_id, actor)  # not every cash posting
    return (sa.select(year, month, je.c.kind, sa.func.sum(post.c.amount_minor))
            .join(je, je.c.id == post.c.entry_id).join(acct, acct.c.id == account_id)
            .join(ln, ln.c.id == post.c.loan_id).join(fam, fam.c.id == ln.c.family_id)
            .where(acct.c.role.in_(("cash", "cash_box")), acct.c.currency == CURRENCY,
                   je.c.kind.in_(kinds), je.c.occurred_on >= start, je.c.occurred_on <= as_of,
                   *_scope(actor))
            .group_by(year, month, je.c.kind))


def portfolio_figures(session: Session, actor: Actor, as_of: date) -> Quality:
    """The portfolio report's figures for `as_of` (its default period: from the first of the
    month), with its percentages written as `fsf report portfolio` writes them."""
    from ledger.reports import portfolio_quality
    from ledger.reports.json import rate_pct

    def pct(r: Any) -> str:
        shown = rate_pct(r)
        return "–" if shown is None else f"{shown} %"

    q = portfolio_quality(session, actor=actor, as_of=as_of, currency=CURRENCY)
    par30 = next(p for p in q.par if p.threshold == 30)
    return Quality(
        period_start=q.period_start, portfolio=q.gross_portfolio, active_loans=q.active_loans,
        par30=par30.value, par30_loans=par30.loans, par30_rate=pct(par30.rate),
        on_time_rate=pct(q.on_time_rate), paid_on_time=q.paid_on_time,
        due_in_period=q.due_in_period, repaid_rate=pct(q.cumulative_repayment_rate))


def at_risk(session: Session, actor: Actor, as_of: date) -> AtRisk:
    """The loans open on `as_of` with something overdue or renegotiated (what PAR counts at
    its lowest threshold), oldest arrears first: one aggregation over the open loans only."""
    from ledger.reports.positions import positions

    ln, fam = core_table("loan"), core_table("family")
    still_open = [sa.or_(ln.c.closed_on.is_(None), ln.c.closed_on > as_of),
                  sa.or_(ln.c.written_off_on.is_(None), ln.c.written_off_on > as_of)]
    pos = positions(as_of, [*_scope(actor), *still_open])
    risky = sa.or_(pos.c.oldest_due.is_not(None), pos.c.version > 1)  # oldest_due < as_of
    ranked = (sa.select(pos.c.loan_id, pos.c.oldest_due, pos.c.overdue, pos.c.version,
                        sa.func.count().over().label("total"))
              .where(risky).order_by(pos.c.oldest_due.is_(None), pos.c.oldest_due,
                                     pos.c.loan_id)
              .limit(AT_RISK_SHOWN).subquery("ranked"))
    rows = session.execute(
        sa.select(ranked, ln.c.ref, fam.c.ref.label("family_ref"), fam.c.head_name,
                  fam.c.head_name_latin)
        .select_from(ranked.join(ln, ln.c.id == ranked.c.loan_id)
                     .join(fam, fam.c.id == ln.c.family_id))
        .order_by(ranked.c.oldest_due.is_(None), ranked.c.oldest_due, ranked.c.loan_id)).all()
    out = []
    for r in rows:
        if r.oldest_due is not None:
            why = (f"{r.ref}: {Money.from_minor(int(r.overdue), KHR)} overdue, "
                   f"{(as_of - r.oldest_due).days} days")
            if r.version > 1:
                why += ", renegotiated"
        else:
            why = f"{r.ref}: renegotiated, counted in PAR"
        out.append(Attention("loan", int(r.loan_id),
                             f"{r.family_ref} {r.head_name_latin or r.head_name}", why))
    return AtRisk(tuple(out), int(rows[0].total) if rows else 0)
