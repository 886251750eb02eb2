"""Maker-checker: a big loan, every write-off and an old reversal need a second user — the same
user is refused, another is allowed, and nothing is posted until then."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.accounts import AccountRole
from ledger.actor import Actor, Role, SecondPersonRequired
from ledger.approvals import (
    approve,
    list_pending,
    propose_reversal,
    propose_write_off,
    reject,
    set_approval_limits,
)
from ledger.db.tables import JournalEntry, Loan
from ledger.money import Money
from ledger.services.loans import apply_for_loan, approve_loan
from ledger.services.repayments import record_repayment, reverse_repayment
from ledger.services.writeoffs import write_off_loan
from ledger.verify import verify_ledger
from tests.support.world import TODAY, World, build_world, riel

DARA = Actor("dara", frozenset({Role.OFFICER, Role.APPROVER}), user_id=1)
SOPHEA = Actor("sophea", frozenset({Role.APPROVER}), user_id=2)
ADMIN = Actor("ana", frozenset({Role.ADMINISTRATOR}), user_id=3)
TREASURER = Actor("tina", frozenset({Role.TREASURER}), frozenset({"none"}), user_id=4)


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session, families=2)


def _entries(s: Session) -> int:
    return int(s.execute(sa.select(sa.func.count()).select_from(JournalEntry)).scalar_one())


def test_a_loan_above_the_limit_needs_an_approver_other_than_its_applicant(
        world: World) -> None:
    s = world.session
    set_approval_limits(s, actor=ADMIN, loan_above=riel(150_000))
    big = apply_for_loan(s, actor=DARA, ref="BIG", family_id=world.families[0],
                         product_code="FSF", fund_code="RIEL", principal=riel(200_000),
                         repayments=10, applied_on=date(2008, 1, 10), today=TODAY)
    small = apply_for_loan(s, actor=DARA, ref="SMALL", family_id=world.families[1],
                           product_code="FSF", fund_code="RIEL", principal=riel(150_000),
                           repayments=10, applied_on=date(2008, 1, 10), today=TODAY)
    assert big.id is not None and small.id is not None
    pending = {p.loan_ref: p.second_person for p in list_pending(s, actor=SOPHEA)}
    assert pending == {"BIG": True, "SMALL": False}
    with pytest.raises(SecondPersonRequired, match="different user must approve"):
        approve_loan(s, actor=DARA, loan_id=big.id, on=date(2008, 1, 11), today=TODAY)
    assert s.get(Loan, big.id).status == "applied"  # type: ignore[union-attr]
    approve_loan(s, actor=DARA, loan_id=small.id, on=date(2008, 1, 11), today=TODAY)
    approve_loan(s, actor=SOPHEA, loan_id=big.id, on=date(2008, 1, 11), today=TODAY)
    assert s.get(Loan, big.id).approved_by == "sophea"  # type: ignore[union-attr]
    assert list_pending(s, actor=TREASURER) == []  # none of her villages' loans


def test_a_write_off_is_posted_only_when_another_user_approves(world: World) -> None:
    s = world.session
    loan = world.loan(world.families[0])
    before = _entries(s)
    with pytest.raises(SecondPersonRequired):
        write_off_loan(s, actor=DARA, loan_id=loan, on=date(2008, 12, 1), today=TODAY,
                       reason="moved to Thailand")
    row = propose_write_off(s, actor=DARA, loan_id=loan, on=date(2008, 12, 1), today=TODAY,
                            reason="moved to Thailand")
    assert row.id is not None and row.amount_minor == 200_000 and _entries(s) == before
    assert [(p.kind, p.id) for p in list_pending(s, actor=SOPHEA)] == [("write_off", row.id)]
    with pytest.raises(SecondPersonRequired, match="proposed by dara"):
        approve(s, actor=DARA, approval_id=row.id, today=TODAY)
    assert _entries(s) == before and s.get(Loan, loan).status == "active"  # type: ignore[union-attr]
    done = approve(s, actor=SOPHEA, approval_id=row.id, today=TODAY)
    assert done.decision == "approved" and done.decided_by == "sophea"
    entry = s.get(JournalEntry, done.entry_id)
    assert entry is not None and entry.kind == "write_off" and "proposed by dara" in entry.memo
    assert s.get(Loan, loan).status == "written_off"  # type: ignore[union-attr]
    assert list_pending(s, actor=SOPHEA) == []
    assert verify_ledger(s).ok


def test_a_rejected_write_off_posts_nothing(world: World) -> None:
    s = world.session
    loan = world.loan(world.families[0])
    row = propose_write_off(s, actor=DARA, loan_id=loan, on=date(2008, 12, 1), today=TODAY,
                            reason="moved")
    assert row.id is not None
    before = _entries(s)
    reject(s, actor=SOPHEA, approval_id=row.id, reason="she came back")
    assert _entries(s) == before and s.get(Loan, loan).status == "active"  # type: ignore[union-attr]


def test_reversing_an_old_repayment_needs_a_second_person(world: World) -> None:
    s = world.session
    loan = world.loan(world.families[0])
    rep = record_repayment(s, actor=DARA, loan_id=loan, amount=riel(21_100),
                           paid_on=date(2008, 2, 15), today=TODAY)
    fresh = record_repayment(s, actor=DARA, loan_id=loan, amount=riel(5_000),
                             paid_on=date(2008, 3, 15), today=TODAY)
    assert rep.id is not None and fresh.id is not None
    # Within the limit (7 days by default) an officer reverses alone.
    reverse_repayment(s, actor=DARA, repayment_id=fresh.id, reason="typo",
                      on=date(2008, 3, 20))
    with pytest.raises(SecondPersonRequired, match="more than 7 days old"):
        reverse_repayment(s, actor=DARA, repayment_id=rep.id, reason="bounced",
                          on=date(2008, 3, 20))
    row = propose_reversal(s, actor=DARA, repayment_id=rep.id, on=date(2008, 3, 20),
                           reason="bounced")
    assert row.id is not None
    with pytest.raises(SecondPersonRequired):
        approve(s, actor=DARA, approval_id=row.id, today=TODAY)
    approve(s, actor=SOPHEA, approval_id=row.id, today=TODAY)
    cash = world_balance(s, AccountRole.CASH)
    assert cash == Money.parse(10_000_000 - 200_000, "KHR").minor
    assert verify_ledger(s).ok


def world_balance(s: Session, role: AccountRole) -> int:
    from ledger.db.tables import core_table

    post, acct = core_table("posting"), core_table("account")
    return int(s.execute(sa.select(sa.func.coalesce(sa.func.sum(post.c.amount_minor), 0)).join(
        acct, acct.c.id == post.c.account_id).where(acct.c.role == role.value)).scalar_one())
