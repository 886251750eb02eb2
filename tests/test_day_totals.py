"""The day totals (`account_day`) on SQLite and PostgreSQL: every journal write keeps them, the
migration fills them from an existing journal, balances on a date read them, and `fsf verify`
names an account whose totals no longer add up to its postings."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.accounts import AccountRole, account_for
from ledger.db import head_revision, make_engine, upgrade
from ledger.db.migrate import downgrade
from ledger.db.tables import core_table
from ledger.journal import balance, balances_by_account
from ledger.services.bulk import NewRepayment, post_repayments
from ledger.services.errors import ServiceError
from ledger.services.funds import find_fund, pay_grant, receive_capital
from ledger.services.loans import apply_for_loan, approve_loan, disburse_loan
from ledger.services.repayments import record_repayment, reverse_repayment
from ledger.verify import verify_ledger
from tests.support.day_totals import assert_day_totals_hold, journal_day_totals, stored_day_totals
from tests.support.world import ACTOR, TODAY, World, build_world, riel


def _busy(session: Session) -> World:
    """Loans, single and bulk repayments on shared days, a reversal and a grant."""
    world = build_world(session, families=4)
    loans = [world.loan(f, 150_000, repayments=6, on=date(2008, 1, 15 + n))
             for n, f in enumerate(world.families)]
    first = record_repayment(session, actor=ACTOR, loan_id=loans[0], amount=riel(30_000),
                             paid_on=date(2008, 2, 15), today=TODAY)
    record_repayment(session, actor=ACTOR, loan_id=loans[1], amount=riel(30_000),
                     paid_on=date(2008, 2, 15), today=TODAY)
    post_repayments(session, actor=ACTOR, today=TODAY, payments=[
        NewRepayment(loan, date(2008, 3, 15) + timedelta(days=n % 2), riel(28_000))
        for n, loan in enumerate(loans)])
    assert first.id is not None
    reverse_repayment(session, actor=ACTOR, repayment_id=first.id, reason="entered twice",
                      on=date(2008, 3, 20))
    pay_grant(session, actor=ACTOR, fund_code="RIEL", ref="G1", purpose="bicycle",
              amount=riel(400_000), paid_on=date(2008, 3, 20))
    session.commit()
    return world


def test_every_write_keeps_the_day_totals(session: Session) -> None:
    _busy(session)
    assert_day_totals_hold(session)
    stored = stored_day_totals(session)
    # One row per account, day and kind: the payments of one day share theirs.
    assert stored[("RIEL.cash", date(2008, 2, 15), "repayment")] == 60_000
    assert stored[("RIEL.cash", date(2008, 3, 15), "repayment")] == 56_000
    assert stored[("RIEL.cash", date(2008, 3, 16), "repayment")] == 56_000
    assert stored[("RIEL.cash", date(2008, 3, 20), "reversal")] == -30_000
    assert stored[("RIEL.cash", date(2008, 3, 20), "grant")] == -400_000
    assert stored[("RIEL.cash", date(2008, 1, 15), "disbursement")] == -150_000


def test_the_migration_fills_them_from_the_journal(session: Session) -> None:
    _busy(session)
    before = stored_day_totals(session)
    session.close()
    engine = session.get_bind()
    assert isinstance(engine, sa.Engine)
    downgrade(engine, "0010")
    with engine.connect() as conn:
        assert "account_day" not in sa.inspect(conn).get_table_names()
    upgrade(engine)
    with Session(engine) as fresh:
        assert stored_day_totals(fresh) == before == journal_day_totals(fresh)


def test_a_balance_on_any_day_is_the_postings_up_to_it(session: Session) -> None:
    _busy(session)
    je, post = core_table("journal_entry"), core_table("posting")
    days = sorted(set(session.execute(sa.select(je.c.occurred_on)).scalars()))
    accounts = [int(i) for i in session.execute(
        sa.select(post.c.account_id).distinct()).scalars()]
    for day in [days[0] - timedelta(days=1), *days, *(d + timedelta(days=1) for d in days)]:
        oracle = dict(session.execute(
            sa.select(post.c.account_id, sa.func.sum(post.c.amount_minor))
            .join(je, je.c.id == post.c.entry_id).where(je.c.occurred_on <= day)
            .group_by(post.c.account_id)).all())
        got = balances_by_account(session, as_of=day)
        assert {k: m.minor for k, m in got.items()} == {k: int(v) for k, v in oracle.items()}
        for account_id in accounts:
            assert balance(session, account_id, as_of=day).minor == int(oracle.get(account_id, 0))


def test_a_disbursement_needs_the_cash_held_on_its_own_day(session: Session) -> None:
    """Cash on the day of the disbursement counts, not cash that arrives later."""
    world = build_world(session, families=1)
    pay_grant(session, actor=ACTOR, fund_code="RIEL", ref="G1", purpose="house-building",
              amount=riel(9_950_000), paid_on=date(2007, 12, 1))
    receive_capital(session, actor=ACTOR, fund_code="RIEL", ref="C2", contributor="IOM",
                    amount=riel(1_000_000), received_on=date(2008, 2, 1))
    loan = apply_for_loan(session, actor=ACTOR, ref="L1", family_id=world.families[0],
                          product_code="FSF", fund_code="RIEL", principal=riel(200_000),
                          repayments=10, applied_on=date(2008, 1, 10), today=TODAY)
    assert loan.id is not None
    approve_loan(session, actor=ACTOR, loan_id=loan.id, on=date(2008, 1, 10), today=TODAY)
    with pytest.raises(ServiceError) as refused:
        disburse_loan(session, actor=ACTOR, loan_id=loan.id, on=date(2008, 1, 31),
                      today=TODAY)
    assert "holds 50,000" in refused.value.message and "2008-01-31" in refused.value.message
    disburse_loan(session, actor=ACTOR, loan_id=loan.id, on=date(2008, 2, 1), today=TODAY)
    cash = account_for(session, AccountRole.CASH, fund_id=find_fund(session, "RIEL").id)
    assert cash.id is not None
    assert balance(session, cash.id, as_of=date(2008, 2, 1)).minor == 850_000
    assert balance(session, cash.id, as_of=date(2008, 1, 31)).minor == 50_000


def test_verify_names_an_account_whose_totals_were_changed(session: Session) -> None:
    _busy(session)
    assert verify_ledger(session).ok
    ad, acct = core_table("account_day"), core_table("account")
    account_id, code = session.execute(
        sa.select(acct.c.id, acct.c.code).join(ad, ad.c.account_id == acct.c.id)
        .where(ad.c.kind == "grant").limit(1)).one()
    session.execute(ad.update().where(ad.c.account_id == account_id, ad.c.kind == "grant")
                    .values(amount_minor=ad.c.amount_minor + 100))
    session.commit()
    report = verify_ledger(session)
    failed = [c for c in report.checks if not c.ok]
    assert [c.name for c in failed] == ["day totals = the journal"]
    assert code in failed[0].detail and "day totals say" in failed[0].detail


def test_verify_sees_money_moved_to_another_day_of_the_same_account(session: Session) -> None:
    """Each account's total still adds up; the day checksum shows both days."""
    _busy(session)
    ad, acct = core_table("account_day"), core_table("account")
    cash = session.execute(sa.select(acct.c.id).where(acct.c.code == "RIEL.cash")).scalar_one()
    for day, change in ((date(2008, 3, 15), 100), (date(2008, 3, 16), -100)):
        session.execute(ad.update().where(ad.c.account_id == cash, ad.c.occurred_on == day,
                                          ad.c.kind == "repayment")
                        .values(amount_minor=ad.c.amount_minor + change))
    session.commit()
    failed = [c for c in verify_ledger(session).checks if not c.ok]
    assert [c.name for c in failed] == ["day totals = the journal"]
    assert "RIEL.cash" not in failed[0].detail
    assert ("2008-03-15, repayment entries" in failed[0].detail
            and "2008-03-16, repayment entries" in failed[0].detail)


def test_fsf_db_upgrade_backs_up_then_fills_them(sqlite_url: str) -> None:
    """An older ledger upgraded from the command line: it says what the wait is for, keeps a
    verified backup first, and the totals come out equal to the journal."""
    from typer.testing import CliRunner

    from tui.cli import build_app

    engine = make_engine(sqlite_url)
    with Session(engine) as s:
        _busy(s)
    downgrade(engine, "0010")
    engine.dispose()
    result = CliRunner().invoke(build_app(), ["--db", sqlite_url, "db", "upgrade"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Backing up and verifying the ledger (schema 0010)")
    assert lines[1].startswith("Backup before upgrading: ")
    assert lines[2] == f"Upgrading to schema {head_revision()}…"
    assert lines[3] == f"Schema 0010 -> {head_revision()}"
    engine = make_engine(sqlite_url)
    with Session(engine) as s:
        assert_day_totals_hold(s)
        assert verify_ledger(s).ok
    engine.dispose()
