"""Round trips of `record_repayment`: a bounded number of statements per payment on SQLite and
PostgreSQL, the same entry as a cold read of accounts and family gives, and a chain lock that
is taken once per transaction yet re-taken after the savepoint that held it rolls back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.accounts import ACCOUNT_CACHE, AccountRole, account_for
from ledger.db.tables import Family, JournalEntry, Loan, Repayment, core_table
from ledger.journal import lock_chain
from ledger.services.errors import Conflict, ServiceError
from ledger.services.repayments import record_repayment
from ledger.services.reschedule import reschedule_loan
from tests.support.world import ACTOR, TODAY, World, build_world, riel

# Statements one repayment sends from a cold session: 16 before they were merged, 11 before the
# loan, its checks and the chain's last entry were read in one query and its payments,
# schedules and booked sums in another; one more since the entry adds to the day totals.
MAX_STATEMENTS = {"sqlite": 8, "postgresql": 8}  # SQLite counts BEGIN IMMEDIATE


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)


@contextmanager
def counted(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def cold(session: Session) -> None:
    """Forget what the session holds, as a fresh session would."""
    session.info.pop(ACCOUNT_CACHE, None)
    session.expire_all()


def test_statements_per_repayment(world: World) -> None:
    s = world.session
    loan = world.loan(world.families[0])
    cold(s)
    with counted(s) as seen:
        record_repayment(s, actor=ACTOR, loan_id=loan, amount=riel(21_100),
                         paid_on=date(2008, 2, 15), today=TODAY, ref="R-1")
    dialect = s.get_bind().dialect.name
    assert len(seen) <= MAX_STATEMENTS[dialect], "\n".join(seen)
    locks = [q for q in seen if "pg_advisory_xact_lock" in q]
    assert len(locks) == (1 if dialect == "postgresql" else 0)


def test_entry_matches_a_cold_read(world: World) -> None:
    s = world.session
    loan_id = world.loan(world.families[0])
    cold(s)
    row = record_repayment(s, actor=ACTOR, loan_id=loan_id, amount=riel(21_100),
                           paid_on=date(2008, 2, 15), today=TODAY, ref="R-1", note="market")
    s.info.pop(ACCOUNT_CACHE, None)
    loan = s.get(Loan, loan_id)
    assert loan is not None
    family = s.get(Family, loan.family_id)
    assert family is not None
    entry = s.get(JournalEntry, row.entry_id)
    assert entry is not None
    who = family.head_name_latin or family.head_name
    assert entry.memo == f"Repayment on loan {loan.ref} from {who}: market"
    cash = account_for(s, AccountRole.CASH, fund_id=loan.fund_id)
    assert row.cash_account_id == cash.id
    post = core_table("posting")
    accounts = set(s.execute(sa.select(post.c.account_id)
                             .where(post.c.entry_id == row.entry_id)).scalars())
    allowed = {account_for(s, role, fund_id=loan.fund_id).id
               for role in (AccountRole.CASH, AccountRole.LOAN_PORTFOLIO,
                            AccountRole.INTEREST_INCOME, AccountRole.FEE_INCOME,
                            AccountRole.PENALTY_INCOME)}
    assert cash.id in accounts and accounts <= allowed
    with pytest.raises(Conflict, match="R-1"):
        record_repayment(s, actor=ACTOR, loan_id=loan_id, amount=riel(1_000),
                         paid_on=date(2008, 3, 15), today=TODAY, ref="R-1")
    assert s.execute(sa.select(sa.func.count()).select_from(Repayment)).scalar_one() == 1


def test_reschedule_date_still_refuses(world: World) -> None:
    s = world.session
    loan = world.loan(world.families[0])
    reschedule_loan(s, actor=ACTOR, loan_id=loan, on=date(2008, 10, 20), today=TODAY,
                    repayments=8, reason="flood")
    with pytest.raises(ServiceError, match="rescheduled on 2008-10-20"):
        record_repayment(s, actor=ACTOR, loan_id=loan, amount=riel(1_000),
                         paid_on=date(2008, 10, 20), today=TODAY)


def _advisory_locks(session: Session) -> int:
    return int(session.execute(sa.text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
        "AND pid = pg_backend_pid() AND granted")).scalar_one())


@pytest.mark.postgres
def test_chain_lock_once_per_transaction(pg_url: str) -> None:
    from ledger.db import make_engine

    engine = make_engine(pg_url)
    try:
        with Session(engine) as s, counted(s) as seen:
            lock_chain(s)
            lock_chain(s)
            assert sum("pg_advisory_xact_lock" in q for q in seen) == 1
            assert _advisory_locks(s) == 1
            s.rollback()  # a new transaction must take it again
            lock_chain(s)
            assert sum("pg_advisory_xact_lock" in q for q in seen) == 2
            savepoint = s.begin_nested()
            lock_chain(s)  # held from the outer transaction: no new request
            assert sum("pg_advisory_xact_lock" in q for q in seen) == 2
            savepoint.rollback()
            s.rollback()
            savepoint = s.begin_nested()
            lock_chain(s)  # taken inside the savepoint, lost with it
            savepoint.rollback()
            assert _advisory_locks(s) == 0
            lock_chain(s)
            assert _advisory_locks(s) == 1
            assert sum("pg_advisory_xact_lock" in q for q in seen) == 4
            s.rollback()
    finally:
        engine.dispose()
