"""The two reads one repayment makes (`ledger.services.payment_reads`) give what the one-loan
readers of `ledger.services.loan_book` give, on loans paid, reversed (with a reallocation)
and rescheduled; and the chain's last entry they hand `append_entry` cannot fork the chain."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.accounts import AccountRole, account_for
from ledger.db.tables import JournalEntry, Loan
from ledger.journal import Line, append_entry, lock_chain, post_entry
from ledger.money import get_currency
from ledger.services.loan_book import (
    booked_parts,
    last_reschedule_on,
    load_payments,
    schedule_versions,
)
from ledger.services.payment_reads import payment_facts, replay_reads
from ledger.services.repayments import record_repayment, reverse_repayment
from ledger.services.reschedule import reschedule_loan
from tests.support.world import ACTOR, TODAY, World, build_world, riel


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session, families=4)


def _same_as_loan_book(session: Session, loan_id: int) -> None:
    loan = session.get(Loan, loan_id)
    assert loan is not None
    reads = replay_reads(session, loan_id, loan.currency)
    assert reads.payments == load_payments(session, loan_id,
                                           currency=get_currency(loan.currency))
    assert reads.booked == booked_parts(session, loan_id)
    assert reads.rescheduled_on == last_reschedule_on(session, loan_id)
    assert reads.versions == schedule_versions(session, [loan_id]).get(loan_id, [])


def test_reads_match_the_one_loan_readers(world: World) -> None:
    s = world.session
    plain, reversed_, moved = (world.loan(f) for f in world.families[:3])
    untouched = world.loan(world.families[3], 150_000)
    for n, on in enumerate((date(2008, 2, 15), date(2008, 3, 15), date(2008, 4, 20))):
        for loan_id in (plain, reversed_, moved):
            record_repayment(s, actor=ACTOR, loan_id=loan_id, amount=riel(21_100 + 700 * n),
                             paid_on=on, today=TODAY)
    first = s.execute(sa.text("SELECT min(id) FROM repayment WHERE loan_id = :l"),
                      {"l": reversed_}).scalar_one()
    # Reversing the first payment re-allocates the later ones: a reallocation entry.
    reverse_repayment(s, actor=ACTOR, repayment_id=int(first), reason="entered twice",
                      on=date(2008, 4, 21))
    reschedule_loan(s, actor=ACTOR, loan_id=moved, on=date(2008, 5, 2), today=TODAY,
                    repayments=8, reason="flood")
    record_repayment(s, actor=ACTOR, loan_id=moved, amount=riel(18_000),
                     paid_on=date(2008, 6, 2), today=TODAY)
    kinds = set(s.execute(sa.text("SELECT kind FROM journal_entry WHERE loan_id = :l"),
                          {"l": reversed_}).scalars())
    assert {"reversal", "reallocation"} <= kinds
    for loan_id in (plain, reversed_, moved, untouched):
        _same_as_loan_book(s, loan_id)
    assert replay_reads(s, moved, "KHR").rescheduled_on == date(2008, 5, 2)
    assert len(replay_reads(s, moved, "KHR").versions) == 2


def test_facts_name_the_payer_the_ref_and_the_chain_tip(world: World) -> None:
    s = world.session
    loan_id = world.loan(world.families[1])
    record_repayment(s, actor=ACTOR, loan_id=loan_id, amount=riel(21_100),
                     paid_on=date(2008, 2, 15), today=TODAY, ref="R-9")
    lock_chain(s)
    facts = payment_facts(s, loan_id, "R-9")
    assert facts is not None and facts.ref_taken and facts.loan.status == "active"
    assert facts.loan.who == "Sok 1" and facts.loan.id == loan_id
    assert not (payment_facts(s, loan_id, "R-10") or facts).ref_taken
    assert not (payment_facts(s, loan_id, None) or facts).ref_taken
    last = s.execute(sa.select(JournalEntry.seq, JournalEntry.hash)  # type: ignore[call-overload]
                     .order_by(sa.desc(JournalEntry.seq)).limit(1)).one()
    assert facts.tip == (last[0], last[1])
    assert payment_facts(s, 999_999, None) is None
    s.rollback()


def test_a_stale_tip_is_refused_not_forked(world: World) -> None:
    s = world.session
    loan_id = world.loan(world.families[2])
    loan = s.get(Loan, loan_id)
    assert loan is not None
    lock_chain(s)
    facts = payment_facts(s, loan_id, None)
    assert facts is not None
    cash = account_for(s, AccountRole.CASH, fund_id=loan.fund_id)
    income = account_for(s, AccountRole.INTEREST_INCOME, fund_id=loan.fund_id)
    assert cash.id is not None and income.id is not None
    lines = [Line(cash.id, riel(100)), Line(income.id, riel(-100))]
    post_entry(s, kind="adjustment", occurred_on=TODAY, memo="moves the tip", by="officer",
               lines=lines)
    with pytest.raises(sa.exc.IntegrityError):
        append_entry(s, kind="adjustment", occurred_on=TODAY, memo="stale", by="officer",
                     lines=lines, tip=facts.tip)
    s.rollback()
