"""What recording one repayment reads, in two round trips instead of seven.

An officer enters payments one at a time, and on PostgreSQL each query is a round trip to the
server. `payment_facts` reads the loan (locked), the reference check, the payer's name and the
chain's last entry in one statement; `replay_reads` reads the standing payments, every
schedule version and what the journal booked in another (a UNION ALL, one branch per kind of
row). The rows are those `ledger.services.loan_book`'s one-loan readers give.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.allocation import Due, Parts, Payment
from ledger.db.tables import core_table
from ledger.journal import ChainTip, chain_tip_columns
from ledger.money import get_currency
from ledger.services.bulk_replay import LoanRow
from ledger.services.loan_book import booked_entries, booked_from_sums, minor_amount

__all__ = ["PaymentFacts", "ReplayReads", "payment_facts", "replay_reads"]


@dataclass(frozen=True, slots=True)
class PaymentFacts:
    """The loan a payment goes to, whether the payment's ref is taken, and the chain's last
    entry."""

    loan: LoanRow
    ref_taken: bool
    tip: ChainTip


@dataclass(frozen=True, slots=True)
class ReplayReads:
    """A loan's schedule versions (created on, dues), standing payments in replay order, and
    what the journal booked, by component."""

    versions: list[tuple[date, list[Due]]]
    payments: tuple[Payment, ...]
    booked: Parts

    @property
    def rescheduled_on(self) -> date | None:
        """The date of the last reschedule (as `last_reschedule_on`), or None."""
        return max(on for on, _ in self.versions[1:]) if len(self.versions) > 1 else None


@cache
def _facts() -> sa.Select[Any]:
    ln, rp, fam = core_table("loan"), core_table("repayment"), core_table("family")
    seq, last_hash = chain_tip_columns()
    return (sa.select(ln.c.id, ln.c.ref, ln.c.status, ln.c.currency, ln.c.fund_id,
                      ln.c.disbursed_on, sa.exists().where(rp.c.ref == sa.bindparam("ref")),
                      fam.c.id, fam.c.head_name_latin, fam.c.head_name, seq, last_hash)
            .select_from(ln.outerjoin(fam, fam.c.id == ln.c.family_id))
            .where(ln.c.id == sa.bindparam("loan_id"))
            .with_for_update(of=ln))


def payment_facts(session: Session, loan_id: int, ref: str | None) -> PaymentFacts | None:
    """The loan (locked FOR UPDATE on PostgreSQL) with what a payment to it checks, or None.
    Read after `lock_chain`, so that the chain's last entry stays the last."""
    row = session.execute(_facts(), {"loan_id": loan_id, "ref": ref}).first()
    if row is None:
        return None
    i, loan_ref, status, currency, fund, disbursed, taken, family, latin, name, seq, last = row
    # The memo names the payer by the Latin name when one is set.
    loan = LoanRow(int(i), str(loan_ref), str(status), str(currency), int(fund), disbursed,
                   str(latin or name) if family is not None else "?")
    return PaymentFacts(loan, ref is not None and bool(taken),
                        (None, None) if seq is None else (int(seq), str(last)))


def _typed(kind: type[sa.types.TypeEngine[Any]]) -> sa.ColumnElement[Any]:
    return sa.cast(sa.null(), kind())


@cache
def _replay() -> sa.CompoundSelect[Any]:
    """One row per standing payment (tag 0), schedule installment (1) and booked component
    and currency (2), in the columns (tag, sort 1-3, schedule id, created on, due date, four
    amounts, component, currency)."""
    ls, si = core_table("loan_schedule"), core_table("schedule_installment")
    rp, rr = core_table("repayment"), core_table("repayment_reversal")
    je, post, acct = core_table("journal_entry"), core_table("posting"), core_table("account")
    loan_id: sa.BindParameter[int] = sa.bindparam("loan_id")
    no_int, no_day, no_text = _typed(sa.Integer), _typed(sa.Date), _typed(sa.String)
    no_amount = _typed(sa.BigInteger)
    payments = (sa.select(sa.literal(0, sa.Integer).label("tag"), no_int.label("s1"),
                          rp.c.paid_on.label("s2"), rp.c.id.label("s3"), no_int, no_day,
                          no_day, rp.c.amount_minor, no_amount, no_amount, no_amount,
                          no_text, no_text)
                .where(rp.c.loan_id == loan_id,
                       ~sa.exists().where(rr.c.repayment_id == rp.c.id)))
    schedules = (sa.select(sa.literal(1, sa.Integer), ls.c.version, no_day, si.c.number,
                           ls.c.id, ls.c.created_on, si.c.due_date, si.c.principal_minor,
                           si.c.interest_minor, si.c.fee_minor, si.c.penalty_minor, no_text,
                           no_text)
                 .join(si, si.c.schedule_id == ls.c.id).where(ls.c.loan_id == loan_id))
    booked = (sa.select(sa.literal(2, sa.Integer), no_int, no_day, no_int, no_int, no_day,
                        no_day, sa.cast(sa.func.sum(post.c.amount_minor), sa.BigInteger),
                        no_amount, no_amount, no_amount, post.c.component, post.c.currency)
              .join(je, je.c.id == post.c.entry_id).join(acct, acct.c.id == post.c.account_id)
              .where(post.c.loan_id == loan_id, post.c.component.is_not(None),
                     acct.c.role != "cash", acct.c.role != "cash_box", booked_entries())
              .group_by(post.c.component, post.c.currency))
    union = sa.union_all(payments, schedules, booked)
    return union.order_by(*(union.selected_columns[k] for k in ("tag", "s1", "s2", "s3")))


def replay_reads(session: Session, loan_id: int, currency: str) -> ReplayReads:
    """Everything replaying one more payment on the loan needs, in one query."""
    cur = get_currency(currency)
    versions: dict[int, tuple[date, list[Due]]] = {}
    payments: list[Payment] = []
    sums: list[tuple[Any, Any, Any]] = []
    for tag, _, paid_on, number, sid, created, due, a, b, c, d, component, code in (
            session.execute(_replay(), {"loan_id": loan_id})):
        if tag == 0:
            payments.append(Payment(int(number), paid_on, minor_amount(a, cur)))
        elif tag == 1:
            versions.setdefault(int(sid), (created, []))[1].append(
                Due(int(number), due, minor_amount(a, cur), minor_amount(b, cur),
                    minor_amount(c, cur), minor_amount(d, cur)))
        else:
            sums.append((component, code, a))
    return ReplayReads(list(versions.values()), tuple(payments), booked_from_sums(sums))
