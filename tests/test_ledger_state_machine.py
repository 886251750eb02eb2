"""Hypothesis state machine over the real services on SQLite and PostgreSQL: whatever sequence
of disbursements, repayments, reversals, write-offs, recoveries and reschedules an officer
enters, every entry balances, the portfolio equals Σ outstanding principal, the chain verifies,
and a reversal restores every balance exactly."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy.orm import Session

from ledger.db.tables import Loan
from ledger.journal import balances_by_account
from ledger.services.errors import ServiceError
from ledger.services.loan_book import load_state
from ledger.services.repayments import payoff_quote, record_repayment, reverse_repayment
from ledger.services.reschedule import reschedule_loan
from ledger.services.writeoffs import record_recovery, recoverable, write_off_loan
from ledger.verify import verify_ledger
from tests.support.day_totals import assert_day_totals_hold
from tests.support.world import ACTOR, TODAY, World, build_world, riel

START = date(2008, 1, 10)


def ledger_machine(make_session: Callable[[], Session]) -> type[RuleBasedStateMachine]:
    class LedgerMachine(RuleBasedStateMachine):
        """An officer's day-by-day entries against a small ledger."""

        @initialize()
        def setup(self) -> None:
            self.session = make_session()
            self.world: World = build_world(self.session, families=3)
            self.day = START
            self.loans: list[int] = []
            self.payments: list[int] = []
            self.next_family = 0

        def teardown(self) -> None:
            self.session.close()

        def advance(self, days: int) -> date:
            self.day = min(self.day + timedelta(days=days), TODAY)
            return self.day

        def active(self) -> list[int]:
            rows = self.session.execute(
                sa.select(Loan.id).where(Loan.status == "active")  # type: ignore[arg-type]
            ).scalars()
            return sorted(int(r) for r in rows)

        @precondition(lambda self: self.next_family < 3)
        @rule(principal=st.sampled_from([100_000, 150_000, 200_000]),
              months=st.integers(6, 12), wait=st.integers(0, 20))
        def disburse(self, principal: int, months: int, wait: int) -> None:
            on = self.advance(wait)
            family = self.world.families[self.next_family]
            self.next_family += 1
            self.loans.append(self.world.loan(family, principal, repayments=months, on=on,
                                              ref=f"L{family}"))

        @rule(data=st.data(), wait=st.integers(0, 45),
              share=st.sampled_from(["part", "installment", "payoff", "too much"]))
        def repay(self, data: st.DataObject, wait: int, share: str) -> None:
            active = self.active()
            if not active:
                return
            loan = data.draw(st.sampled_from(active))
            on = self.advance(wait)
            payoff = payoff_quote(self.session, actor=ACTOR, loan_id=loan, as_of=on).amount
            amount = {"part": payoff // 7 + 1, "installment": payoff // 5 + 1,
                      "payoff": payoff, "too much": payoff + 1}[share]
            try:
                row = record_repayment(self.session, actor=ACTOR, loan_id=loan,
                                       amount=riel(int(amount)), paid_on=on, today=TODAY)
            except ServiceError as exc:
                assert share == "too much" or "rescheduled" in exc.message, exc.message
                return
            assert share != "too much"
            assert row.id is not None
            self.payments.append(row.id)

        @precondition(lambda self: bool(self.payments))
        @rule(data=st.data(), wait=st.integers(0, 10))
        def reverse(self, data: st.DataObject, wait: int) -> None:
            payment = data.draw(st.sampled_from(self.payments))
            before = balances_by_account(self.session)
            try:
                reverse_repayment(self.session, actor=ACTOR, repayment_id=payment,
                                  reason="entered in error", on=self.advance(wait))
            except ServiceError:
                assert balances_by_account(self.session) == before
                return
            self.payments.remove(payment)
            after = balances_by_account(self.session)
            # Cash goes back exactly by the payment; the rest only moves between accounts.
            assert sum(m.minor for m in after.values()) == 0
            assert before != after

        @rule(data=st.data(), first=st.integers(1, 40), second=st.integers(1, 40))
        def pay_twice_then_reverse_the_first(self, data: st.DataObject, first: int,
                                             second: int) -> None:
            """The case that makes later payments re-allocate."""
            active = self.active()
            if not active:
                return
            loan = data.draw(st.sampled_from(active))
            ids = []
            for wait in (first, second):
                on = self.advance(wait)
                payoff = payoff_quote(self.session, actor=ACTOR, loan_id=loan, as_of=on).amount
                if payoff < 2:
                    return
                try:
                    row = record_repayment(self.session, actor=ACTOR, loan_id=loan,
                                           amount=riel(int(payoff // 4 + 1)), paid_on=on,
                                           today=TODAY)
                except ServiceError as exc:
                    assert "rescheduled" in exc.message, exc.message
                    return
                assert row.id is not None
                ids.append(row.id)
                self.payments.append(row.id)
            reverse_repayment(self.session, actor=ACTOR, repayment_id=ids[0],
                              reason="wrong family", on=self.day)
            self.payments.remove(ids[0])

        @precondition(lambda self: len(self.payments) >= 4)
        @rule(data=st.data(), wait=st.integers(30, 200))
        def write_off(self, data: st.DataObject, wait: int) -> None:
            active = self.active()
            if not active:
                return
            loan = data.draw(st.sampled_from(active))
            write_off_loan(self.session, actor=ACTOR, loan_id=loan, on=self.advance(wait),
                           today=TODAY, reason="family left the village")

        @rule(data=st.data(), wait=st.integers(1, 60))
        def recover(self, data: st.DataObject, wait: int) -> None:
            gone = [lo for lo in self.loans
                    if self.session.get(Loan, lo).status == "written_off"]  # type: ignore[union-attr]
            if not gone:
                return
            loan = self.session.get(Loan, data.draw(st.sampled_from(gone)))
            assert loan is not None
            left = recoverable(self.session, loan).amount
            if left <= 0:
                return
            assert loan.id is not None
            record_recovery(self.session, actor=ACTOR, loan_id=loan.id,
                            amount=riel(int(max(left // 2, 1))), on=self.advance(wait),
                            today=TODAY)

        @rule(data=st.data(), wait=st.integers(5, 60), months=st.integers(3, 12))
        def reschedule(self, data: st.DataObject, wait: int, months: int) -> None:
            active = self.active()
            if not active:
                return
            loan = data.draw(st.sampled_from(active))
            try:
                reschedule_loan(self.session, actor=ACTOR, loan_id=loan, on=self.advance(wait),
                                today=TODAY, repayments=months, reason="flood")
            except ServiceError as exc:
                assert "after" in exc.message or "must" in exc.message, exc.message

        @invariant()
        def books_hold(self) -> None:
            if not hasattr(self, "session"):
                return
            report = verify_ledger(self.session)
            assert report.ok, report.first_failure
            assert_day_totals_hold(self.session)
            for loan_id in self.loans:
                loan = self.session.get(Loan, loan_id)
                assert loan is not None
                state = load_state(self.session, loan)
                assert state.outstanding_principal >= 0
                if loan.status == "closed":
                    assert state.outstanding.total == 0

    return LedgerMachine


@pytest.fixture
def session_factory(engine: sa.Engine) -> Iterator[Callable[[], Session]]:
    """Fresh ledger per Hypothesis example: the tables are emptied by rebuilding the schema."""
    from ledger.db import upgrade
    from ledger.db.migrate import downgrade

    def make() -> Session:
        downgrade(engine, "base")
        upgrade(engine)
        return Session(engine, expire_on_commit=False)

    yield make


@pytest.mark.slow
def test_any_sequence_keeps_the_books(session_factory: Callable[[], Session]) -> None:
    machine = ledger_machine(session_factory)
    machine.TestCase.settings = settings(
        max_examples=10, stateful_step_count=15, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    machine.TestCase().runTest()
