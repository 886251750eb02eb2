"""The whole loan lifecycle through the services, on SQLite and PostgreSQL, checked against the
journal and `verify_ledger` after every step."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.accounts import AccountRole, account_for
from ledger.db.tables import JournalEntry, Loan, LoanSchedule, Repayment
from ledger.journal import balance
from ledger.services.errors import Conflict, ServiceError
from ledger.services.families import FamilyInput, register_family
from ledger.services.loan_book import load_state
from ledger.services.repayments import payoff_quote, record_repayment, reverse_repayment
from ledger.services.reschedule import reschedule_loan
from ledger.services.writeoffs import record_recovery, write_off_loan
from ledger.verify import verify_ledger
from tests.support.world import ACTOR, TODAY, World, build_world, riel


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)


def bal(s: Session, role: AccountRole) -> int:
    acct = account_for(s, role, fund_id=1)
    assert acct.id is not None
    return balance(s, acct.id).minor


def entries(s: Session) -> int:
    return s.execute(sa.select(sa.func.count()).select_from(JournalEntry)).scalar_one()


def assert_verified(s: Session) -> None:
    report = verify_ledger(s)
    assert report.ok, report.first_failure


def pay(w: World, loan: int, amount: int, on: date) -> int:
    row = record_repayment(w.session, actor=ACTOR, loan_id=loan, amount=riel(amount),
                           paid_on=on, today=TODAY)
    assert row.id is not None
    return row.id


def test_disburse_and_pay_on_time(world: World) -> None:
    s = world.session
    loan = world.loan(world.families[0])
    assert bal(s, AccountRole.LOAN_PORTFOLIO) == 200_000
    assert bal(s, AccountRole.CASH) == 10_000_000 - 200_000
    assert s.execute(sa.select(sa.func.count()).select_from(LoanSchedule)).scalar_one() == 1
    pay(world, loan, 21_100, date(2008, 2, 15))
    assert bal(s, AccountRole.LOAN_PORTFOLIO) == 200_000 - 19_100
    assert bal(s, AccountRole.INTEREST_INCOME) == -2_000
    assert_verified(s)


def test_partial_late_and_early_payments_allocate_interest_first(world: World) -> None:
    s = world.session
    loan = world.loan(world.families[0])
    pay(world, loan, 5_000, date(2008, 3, 1))  # late and partial: 2,000 interest, 3,000 principal
    assert bal(s, AccountRole.INTEREST_INCOME) == -2_000
    assert bal(s, AccountRole.LOAN_PORTFOLIO) == 197_000
    pay(world, loan, 60_000, date(2008, 3, 10))  # covers the rest of #1, then #2 and part of #3
    state = load_state(s, s.get(Loan, loan))  # type: ignore[arg-type]
    assert state.installments[0].fully_paid_on == date(2008, 3, 10)
    assert state.installments[1].fully_paid_on == date(2008, 3, 10)
    booked = -bal(s, AccountRole.INTEREST_INCOME) + (200_000 - bal(s, AccountRole.LOAN_PORTFOLIO))
    assert booked == 65_000
    assert_verified(s)


def test_refusals_write_nothing(world: World) -> None:
    s = world.session
    loan = world.loan(world.families[0])
    before = entries(s)
    quote = payoff_quote(s, actor=ACTOR, loan_id=loan, as_of=date(2008, 2, 1))
    assert quote.amount == 200_000 + 2_000
    with pytest.raises(ServiceError, match="payoff amount of 202,000 ៛"):
        pay(world, loan, 202_001, date(2008, 2, 1))
    with pytest.raises(ServiceError, match="before the loan was disbursed"):
        pay(world, loan, 1_000, date(2008, 1, 1))
    with pytest.raises(ServiceError, match="future"):
        pay(world, loan, 1_000, date(2010, 1, 1))
    with pytest.raises(ServiceError, match="more than zero"):
        pay(world, loan, 0, date(2008, 2, 1))
    assert entries(s) == before
    assert s.execute(sa.select(sa.func.count()).select_from(Repayment)).scalar_one() == 0


def test_payoff_closes_and_reversal_reopens(world: World) -> None:
    s = world.session
    loan = world.loan(world.families[0])
    first = pay(world, loan, 21_100, date(2008, 2, 15))
    quote = payoff_quote(s, actor=ACTOR, loan_id=loan, as_of=date(2008, 3, 1)).amount
    last = pay(world, loan, int(quote), date(2008, 3, 1))
    assert s.get(Loan, loan).status == "closed"  # type: ignore[union-attr]
    assert bal(s, AccountRole.LOAN_PORTFOLIO) == 0
    with pytest.raises(ServiceError, match="closed"):
        pay(world, loan, 1_000, date(2008, 3, 2))
    reverse_repayment(s, actor=ACTOR, repayment_id=first, reason="cheque bounced",
                      on=date(2008, 3, 5))
    assert s.get(Loan, loan).status == "active"  # type: ignore[union-attr]
    # The payoff now pays installment 1 first; the journal follows the replay exactly.
    assert bal(s, AccountRole.LOAN_PORTFOLIO) + bal(s, AccountRole.INTEREST_INCOME) == (
        200_000 - int(quote))
    assert_verified(s)
    with pytest.raises(Conflict):
        reverse_repayment(s, actor=ACTOR, repayment_id=first, reason="again", on=date(2008, 3, 5))
    reverse_repayment(s, actor=ACTOR, repayment_id=last, reason="entered twice",
                      on=date(2008, 3, 6))
    assert bal(s, AccountRole.LOAN_PORTFOLIO) == 200_000
    assert bal(s, AccountRole.INTEREST_INCOME) == 0
    assert bal(s, AccountRole.CASH) == 10_000_000 - 200_000
    assert_verified(s)


def test_write_off_and_recovery(world: World) -> None:
    s = world.session
    loan = world.loan(world.families[0])
    pay(world, loan, 21_100, date(2008, 2, 15))
    written = write_off_loan(s, actor=ACTOR, loan_id=loan, on=date(2008, 12, 1), today=TODAY,
                             reason="family moved to Thailand")
    assert written.amount == 180_900
    assert bal(s, AccountRole.LOAN_PORTFOLIO) == 0
    assert bal(s, AccountRole.LOAN_LOSS_EXPENSE) == 180_900
    with pytest.raises(ServiceError, match="recovery"):
        pay(world, loan, 1_000, date(2009, 1, 1))
    record_recovery(s, actor=ACTOR, loan_id=loan, amount=riel(50_000), on=date(2009, 1, 1),
                    today=TODAY)
    assert bal(s, AccountRole.RECOVERIES_INCOME) == -50_000
    with pytest.raises(ServiceError, match="still owed"):
        record_recovery(s, actor=ACTOR, loan_id=loan, amount=riel(10_000_000),
                        on=date(2009, 1, 2), today=TODAY)
    assert_verified(s)


def test_reschedule_after_flood(world: World) -> None:
    s = world.session
    loan = world.loan(world.families[0])
    for month in (2, 3, 4):
        pay(world, loan, 21_100, date(2008, month, 15))
    reschedule_loan(s, actor=ACTOR, loan_id=loan, on=date(2008, 10, 20), today=TODAY,
                    repayments=8, reason="flood destroyed the rice harvest")
    row = s.get(Loan, loan)
    assert row is not None and row.renegotiated
    state = load_state(s, row)
    assert state.outstanding_principal == 200_000 - (19_100 + 19_291 + 19_484)
    with pytest.raises(ServiceError, match="rescheduled"):
        pay(world, loan, 1_000, date(2008, 10, 1))
    quote = payoff_quote(s, actor=ACTOR, loan_id=loan, as_of=date(2008, 11, 25)).amount
    pay(world, loan, int(quote), date(2008, 11, 25))
    assert s.get(Loan, loan).status == "closed"  # type: ignore[union-attr]
    assert_verified(s)


def test_product_limits_and_duplicates(world: World) -> None:
    with pytest.raises(ServiceError, match="outside FSF's limits"):
        world.loan(world.families[0], principal=250_000)
    with pytest.raises(ServiceError, match="repayments"):
        world.loan(world.families[0], repayments=24)
    world.loan(world.families[0])
    with pytest.raises(Conflict, match="already has loan"):
        world.loan(world.families[0], ref="second")
    data = FamilyInput(ref="F900", head_name="សុខ 0", sex="F", household_size=4,
                       village_id=world.villages[0], registered_on=date(2008, 1, 1),
                       birth_year=1970)
    with pytest.raises(Conflict, match="already registered"):
        register_family(world.session, actor=ACTOR, data=data, today=TODAY)
    fam = register_family(world.session, actor=ACTOR, data=data, today=TODAY,
                          confirm_duplicate=True)
    assert fam.id is not None


def test_verify_catches_an_edit_behind_the_apps_back(world: World) -> None:
    s = world.session
    loan = world.loan(world.families[0])
    pay(world, loan, 21_100, date(2008, 2, 15))
    assert_verified(s)
    bind = s.get_bind()
    s.commit()
    with bind.begin() as conn:  # what someone with a database shell could do
        if bind.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER posting_no_update")
        else:
            conn.exec_driver_sql("DROP TRIGGER posting_append_only ON posting")
        conn.exec_driver_sql("UPDATE posting SET amount_minor = amount_minor + 1000 "
                             "WHERE amount_minor = 21100")
    report = verify_ledger(s)
    assert not report.ok
    failure = report.first_failure
    assert failure is not None and failure.name.startswith("hash chain")
