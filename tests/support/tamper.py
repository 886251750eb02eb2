"""A small real ledger with every kind of money event, and the edits someone with a database
shell could make to it behind the app's back (shared by the tests of `fsf verify`)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.services.repayments import payoff_quote, record_repayment, reverse_repayment
from ledger.services.reschedule import reschedule_loan
from ledger.services.writeoffs import record_recovery, write_off_loan
from tests.support.world import ACTOR, TODAY, World, riel

__all__ = ["money_ledger", "tamper"]


def _pay(w: World, loan: int, amount: int, on: date) -> int:
    row = record_repayment(w.session, actor=ACTOR, loan_id=loan, amount=riel(amount),
                           paid_on=on, today=TODAY)
    assert row.id is not None
    return row.id


def money_ledger(w: World) -> dict[str, int]:
    """Every kind of money event, each loan in a state of its own."""
    s = w.session
    paying = w.loan(w.families[0], ref="PAYING")
    _pay(w, paying, 21_100, date(2008, 2, 15))
    bounced = _pay(w, paying, 21_100, date(2008, 3, 15))
    reverse_repayment(s, actor=ACTOR, repayment_id=bounced, reason="cheque bounced",
                      on=date(2008, 3, 20))
    _pay(w, paying, 25_000, date(2008, 4, 15))
    paid_off = w.loan(w.families[1], ref="PAIDOFF")
    _pay(w, paid_off, 21_100, date(2008, 2, 15))
    quote = payoff_quote(s, actor=ACTOR, loan_id=paid_off, as_of=date(2008, 3, 1)).amount
    _pay(w, paid_off, int(quote), date(2008, 3, 1))
    rescheduled = w.loan(w.families[2], ref="RESCHED")
    _pay(w, rescheduled, 21_100, date(2008, 2, 15))
    reschedule_loan(s, actor=ACTOR, loan_id=rescheduled, on=date(2008, 5, 20), today=TODAY,
                    repayments=8, reason="flood")
    _pay(w, rescheduled, 30_000, date(2008, 7, 1))
    lost = w.loan(w.families[3], ref="LOST")
    _pay(w, lost, 21_100, date(2008, 2, 15))
    write_off_loan(s, actor=ACTOR, loan_id=lost, on=date(2008, 12, 1), today=TODAY,
                   reason="family moved away")
    record_recovery(s, actor=ACTOR, loan_id=lost, amount=riel(50_000), on=date(2009, 1, 1),
                    today=TODAY)
    s.commit()
    return {"paying": paying, "paid_off": paid_off, "rescheduled": rescheduled, "lost": lost,
            "bounced": bounced}


def tamper(s: Session, *sql: str, tables: tuple[str, ...] = ()) -> None:
    """What someone with a database shell could do: drop the triggers, change rows."""
    s.commit()
    engine = s.get_bind()
    assert isinstance(engine, sa.Engine)
    with engine.begin() as conn:
        for table in tables:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_update")
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            else:
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        for statement in sql:
            conn.exec_driver_sql(statement)
    s.expire_all()
