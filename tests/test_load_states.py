"""`load_states` replays many loans from a few grouped queries (a village's collection sheet);
each state must be the one `load_state` gives the loan alone, reversed payments, payments on
the same day and reschedules included, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from ledger.services.loan_book import get_loan, load_payments, load_state, load_states
from ledger.services.repayments import record_repayment, reverse_repayment
from ledger.services.reschedule import reschedule_loan
from tests.support.world import ACTOR, TODAY, build_world, riel


def test_many_loans_replay_as_each_loan_alone(session: Session) -> None:
    world = build_world(session, families=4)
    plain, reversed_, moved, untouched = (world.loan(f) for f in world.families)
    for loan_id in (plain, reversed_, moved):
        for k, (day, amount) in enumerate([(date(2008, 2, 15), 21_100), (date(2008, 3, 3), 5_000),
                                           (date(2008, 3, 3), 16_100)]):
            record_repayment(session, actor=ACTOR, loan_id=loan_id, amount=riel(amount),
                             paid_on=day, today=TODAY, ref=f"P{loan_id}-{k}")
    first = load_payments(session, reversed_, currency=riel(0).currency)[0]
    reverse_repayment(session, actor=ACTOR, repayment_id=int(first.ref), reason="entered twice",
                      on=date(2008, 3, 10))
    reschedule_loan(session, actor=ACTOR, loan_id=moved, on=date(2008, 5, 2), today=TODAY,
                    repayments=8, reason="flood")
    record_repayment(session, actor=ACTOR, loan_id=moved, amount=riel(30_000),
                     paid_on=date(2008, 6, 2), today=TODAY)
    session.commit()

    loans = [get_loan(session, i) for i in (plain, reversed_, moved, untouched)]
    together = load_states(session, loans)
    assert together == {loan.id: load_state(session, loan) for loan in loans}
    # The reversed payment left the replay; the reschedule's dues follow the first schedule's.
    assert len(together[reversed_].allocations) == len(together[plain].allocations) - 1
    assert together[moved].dues[-1].due_date > together[plain].dues[-1].due_date
    assert together[untouched].allocations == ()
    assert load_states(session, []) == {}
