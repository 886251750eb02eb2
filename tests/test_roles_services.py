"""Every service, called as every role: the allowed roles get past the role check (they succeed
or fail on the data), the others are refused with PermissionDenied naming a role that would do.

Services check the role before anything else, so a call on an id that does not exist tells the
two apart: NotFound (or another ServiceError) for an allowed role, PermissionDenied otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.actor import Actor, PermissionDenied, Role
from ledger.approvals import (
    approve,
    list_pending,
    propose_reversal,
    propose_write_off,
    reject,
    set_approval_limits,
)
from ledger.db.tables import LoanProduct, PendingApproval
from ledger.services.errors import ServiceError
from ledger.services.families import FamilyInput, register_family, sensitive_facts
from ledger.services.funds import open_fund, pay_grant, receive_capital, transfer_cash
from ledger.services.loans import apply_for_loan, approve_loan, disburse_loan, reject_loan
from ledger.services.places import add_village
from ledger.services.products import create_product
from ledger.services.repayments import payoff_quote, record_repayment, reverse_repayment
from ledger.services.reschedule import reschedule_loan
from ledger.services.writeoffs import record_recovery
from ledger.users import add_user, disable_user, list_users
from tests.support.world import TODAY, World, build_world, riel

A, OF, P, T, U = (Role.ADMINISTRATOR, Role.OFFICER, Role.APPROVER, Role.TREASURER,
                  Role.AUDITOR)
EVERYONE = {A, OF, P, T, U}
D = date(2008, 3, 1)
NONE = 999_999
Call = Callable[[Session, Actor, World, str], Any]


def _family(tag: str) -> FamilyInput:
    return FamilyInput(ref=f"R-{tag}", head_name="ចាន់ ធី", head_name_latin="Chan Thy", sex="F",
                       household_size=4, village_id=1, registered_on=date(2007, 6, 1))


def _pending(s: Session, w: World) -> int:
    row = PendingApproval(kind="write_off", loan_id=w.loan_id, subject_id=w.loan_id,
                          amount_minor=1, currency="KHR", occurred_on=D, reason="test",
                          requested_by="somebody else")
    s.add(row)
    s.commit()
    assert row.id is not None
    return row.id


# service -> (roles allowed, call)
TABLE: dict[str, tuple[set[Role], Call]] = {
    "register_family": ({OF}, lambda s, a, w, t: register_family(
        s, actor=a, data=_family(t), today=TODAY)),
    "sensitive_facts": ({OF, P}, lambda s, a, w, t: sensitive_facts(
        s, actor=a, family_id=w.families[0])),
    "add_village": ({OF}, lambda s, a, w, t: add_village(
        s, actor=a, code=f"99{t}", name_kh="ភូមិ", name_en=f"Phum {t}",
        commune_code="NOPE")),
    "open_fund": ({A}, lambda s, a, w, t: open_fund(s, actor=a, code=f"F{t}", name="Fund")),
    "receive_capital": ({A}, lambda s, a, w, t: receive_capital(
        s, actor=a, fund_code="NOPE", ref=f"C-{t}", contributor="IOM", amount=riel(1),
        received_on=D)),
    "transfer_cash": ({A}, lambda s, a, w, t: transfer_cash(
        s, actor=a, fund_code="NOPE", amount=riel(1), on=D, from_box=None, to_box=NONE,
        memo="float")),
    "pay_grant": ({A, OF}, lambda s, a, w, t: pay_grant(
        s, actor=a, fund_code="NOPE", ref=f"G-{t}", purpose="bicycle", amount=riel(1),
        paid_on=D)),
    "create_product": ({A}, lambda s, a, w, t: create_product(s, actor=a, product=LoanProduct(
        code=f"P{t}", name="p", currency="KHR", min_principal_minor=2, max_principal_minor=1,
        rate=1, rate_period="month", method="declining", amortization="equal-installments",
        min_repayments=1, max_repayments=2, allowed_units="month", allowed_every="1"))),
    "apply_for_loan": ({OF}, lambda s, a, w, t: apply_for_loan(
        s, actor=a, ref=f"L-{t}", family_id=NONE, product_code="FSF", fund_code="RIEL",
        principal=riel(100_000), repayments=6, applied_on=D, today=TODAY)),
    "approve_loan": ({P}, lambda s, a, w, t: approve_loan(
        s, actor=a, loan_id=NONE, on=D, today=TODAY)),
    "reject_loan": ({P}, lambda s, a, w, t: reject_loan(
        s, actor=a, loan_id=NONE, on=D, reason="no")),
    "disburse_loan": ({OF}, lambda s, a, w, t: disburse_loan(
        s, actor=a, loan_id=NONE, on=D, today=TODAY)),
    "reschedule_loan": ({OF}, lambda s, a, w, t: reschedule_loan(
        s, actor=a, loan_id=NONE, on=D, today=TODAY, repayments=6, reason="flood")),
    "record_repayment": ({OF}, lambda s, a, w, t: record_repayment(
        s, actor=a, loan_id=NONE, amount=riel(1), paid_on=D, today=TODAY)),
    "reverse_repayment": ({OF}, lambda s, a, w, t: reverse_repayment(
        s, actor=a, repayment_id=NONE, reason="bounced", on=D)),
    "record_recovery": ({OF}, lambda s, a, w, t: record_recovery(
        s, actor=a, loan_id=NONE, amount=riel(1), on=D, today=TODAY)),
    "propose_write_off": ({OF}, lambda s, a, w, t: propose_write_off(
        s, actor=a, loan_id=NONE, on=D, today=TODAY, reason="moved away")),
    "propose_reversal": ({OF}, lambda s, a, w, t: propose_reversal(
        s, actor=a, repayment_id=NONE, on=D, reason="bounced")),
    "approve (write-off)": ({P}, lambda s, a, w, t: approve(
        s, actor=a, approval_id=_pending(s, w), today=TODAY)),
    "reject (write-off)": ({P}, lambda s, a, w, t: reject(
        s, actor=a, approval_id=_pending(s, w), reason="not yet")),
    "payoff_quote": (EVERYONE, lambda s, a, w, t: payoff_quote(
        s, actor=a, loan_id=NONE, as_of=D)),
    "list_pending": (EVERYONE, lambda s, a, w, t: list_pending(s, actor=a)),
    "add_user": ({A}, lambda s, a, w, t: add_user(
        s, actor=a, name=f"u{t}", roles=["auditor"], password="x")),
    "disable_user": ({A}, lambda s, a, w, t: disable_user(s, actor=a, name="nobody")),
    "list_users": ({A}, lambda s, a, w, t: list_users(s, actor=a)),
    "set_approval_limits": ({A}, lambda s, a, w, t: set_approval_limits(
        s, actor=a, reversal_after_days=-1)),
}


def _outcome(call: Call, s: Session, actor: Actor, world: World, tag: str) -> str:
    try:
        call(s, actor, world, tag)
    except PermissionDenied as exc:
        s.rollback()
        return f"refused: {exc}"
    except (ServiceError, ValueError, sa.exc.SQLAlchemyError):  # refused by the data
        s.rollback()
        return "allowed"
    return "allowed"


def test_every_service_allows_and_refuses_each_role(session: Session) -> None:
    world = build_world(session, families=1)
    world.loan_id = world.loan(world.families[0])  # type: ignore[attr-defined]
    wrong = []
    for service, (allowed, call) in TABLE.items():
        for n, role in enumerate(Role):
            actor = Actor(f"{role.value}-user", frozenset({role}), user_id=n + 1)
            got = _outcome(call, session, actor, world, f"{n}{len(wrong)}")
            if (role in allowed) != (got == "allowed"):
                wrong.append(f"{service} as {role.value}: {got}")
            elif role not in allowed:
                needed = [r.value for r in allowed]
                if not any(f"{r}" in got for r in needed):
                    wrong.append(f"{service} as {role.value}: refusal names no role: {got}")
    assert wrong == []


@pytest.mark.parametrize("role", list(Role))
def test_a_user_holding_two_roles_has_both(role: Role) -> None:
    both = Actor("two", frozenset({Role.OFFICER, role}))
    from ledger.actor import Permission

    assert both.can(Permission.RECORD_REPAYMENTS)
    assert both.can(Permission.READ)
