"""Build the demo ledger by feeding the plan through the ledger's own services, in date order,
exactly as officers would have entered the Svay Rieng programme in 2007-2009."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from ledger.actor import Actor, Role
from ledger.approvals import approve, propose_write_off
from ledger.db.tables import Family, Loan, LoanSchedule, ScheduleInstallment, Village
from ledger.demo.households import build_households
from ledger.demo.plan import build_plan
from ledger.demo.records import DemoGrant, DemoLoan, DemoPlan, DemoRepayment, PaymentKind
from ledger.demo.training import build_training
from ledger.money import KHR, USD, Money
from ledger.services.errors import ServiceError
from ledger.services.families import DebtInput, FamilyInput, register_family
from ledger.services.funds import ForeignAmount, pay_grant, receive_capital
from ledger.services.loans import apply_for_loan, approve_loan, disburse_loan
from ledger.services.repayments import payoff_quote, record_repayment
from ledger.services.reschedule import reschedule_loan
from ledger.services.setup import DEFAULT_FUND, set_fact, setup_ledger
from ledger.services.unit import use_case
from ledger.services.writeoffs import record_recovery

__all__ = ["DEMO_ACTOR", "DEMO_APPROVER", "DemoSummary", "build_demo"]

DEMO_ACTOR = Actor("demo-admin", frozenset({Role.ADMINISTRATOR, Role.OFFICER, Role.APPROVER}),
                   demo=True)
# Write-offs need a second person, so the demo's are approved by a second demo user.
DEMO_APPROVER = Actor("demo-approver", frozenset({Role.APPROVER}), demo=True)


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What was built, for `fsf demo` to print."""

    families: int
    loans: int
    repayments: int
    disbursed: Money
    as_of: date


def _riel(amount: Decimal) -> Money:
    return Money(amount, KHR)


class _Builder:
    def __init__(self, session: Session, plan: DemoPlan) -> None:
        self.s, self.plan, self.today = session, plan, plan.as_of
        self.family_ids: dict[str, int] = {}
        self.loan_ids: dict[str, int] = {}
        self.repayments = 0

    def village_id(self, code: str, commune: str) -> int:
        query = sa.select(col(Village.id)).where(col(Village.code) == code,
                                                 col(Village.commune_code) == commune)
        found = self.s.execute(query.order_by(col(Village.id))).scalars().first()
        assert found is not None, f"village {code} missing from the gazetteer load"
        return int(found)

    def family(self, ref: str) -> None:
        f = next(x for x in self.plan.families if x.ref == ref)
        v = next(x for x in self.plan.villages if x.code == f.village_code)
        debts = (DebtInput("moneylender", _riel(f.informal_debt), f.informal_rate_monthly_pct),
                 ) if f.informal_debt else ()
        row = register_family(self.s, actor=DEMO_ACTOR, today=self.today, data=FamilyInput(
            ref=f.ref, head_name=f.head_name, head_name_latin=f.head_name_latin, sex=f.sex.value,
            household_size=f.household_size, dependants=f.dependants,
            village_id=self.village_id(v.code, v.commune_code), registered_on=f.registered_on,
            birth_year=f.birth_year, phone=f.phone, debts=debts, sensitive=f.sensitive,
        ), confirm_duplicate=True)
        assert row.id is not None
        self.family_ids[ref] = row.id

    def installment_total(self, loan_id: int, number: int, schedule_no: int) -> Decimal:
        si, ls = ScheduleInstallment, LoanSchedule
        total = self.s.execute(
            sa.select(col(si.principal_minor) + col(si.interest_minor) + col(si.fee_minor))
            .join(ls, col(ls.id) == col(si.schedule_id))
            .where(col(ls.loan_id) == loan_id, col(ls.version) == schedule_no + 1,
                   col(si.number) == number)
        ).scalar_one()
        return Decimal(int(total))

    def pay(self, p: DemoRepayment) -> None:
        loan_id = self.loan_ids[p.loan_ref]
        if p.kind is PaymentKind.PAYOFF:
            amount = self.payoff(loan_id, p.paid_on)
        elif p.kind is PaymentKind.AMOUNT:
            assert p.amount is not None
            amount = p.amount
        else:
            assert p.installment is not None
            amount = self.installment_total(loan_id, p.installment, p.schedule_no)
        try:
            self.record(loan_id, amount, p.paid_on)
        except ServiceError:
            # A last installment can exceed the payoff once earlier ones were paid ahead.
            self.record(loan_id, self.payoff(loan_id, p.paid_on), p.paid_on)

    def record(self, loan_id: int, amount: Decimal, on: date) -> None:
        if amount > 0:
            record_repayment(self.s, actor=DEMO_ACTOR, loan_id=loan_id, amount=_riel(amount),
                             paid_on=on, today=self.today)
            self.repayments += 1

    def payoff(self, loan_id: int, on: date) -> Decimal:
        return payoff_quote(self.s, actor=DEMO_ACTOR, loan_id=loan_id, as_of=on).amount

    def events(self) -> list[tuple[date, int, int, Callable[[], object]]]:
        """Every step of the programme, in the order officers would have entered them."""
        plan, a, s, today = self.plan, DEMO_ACTOR, self.s, self.today
        ids = self.loan_ids
        out: list[tuple[date, int, int, Callable[[], object]]] = []
        for n, c in enumerate(plan.capital):
            foreign = (ForeignAmount(Money(c.usd_amount, USD), c.riel_per_usd)
                       if c.usd_amount is not None and c.riel_per_usd is not None else None)
            out.append((c.received_on, 0, n, partial(
                receive_capital, s, actor=a, fund_code=DEFAULT_FUND, ref=c.ref,
                contributor=c.source, amount=_riel(c.amount), received_on=c.received_on,
                memo=c.note, foreign=foreign)))
        for n, f in enumerate(plan.families):
            out.append((f.registered_on, 1, n, partial(self.family, f.ref)))
        for n, (loan, story) in enumerate(zip(plan.loans, plan.behaviours, strict=True)):
            out.append((loan.applied_on, 2, n, partial(self.apply, loan)))
            out.append((loan.approved_on, 3, n, partial(self.approve, loan.ref, loan.approved_on)))
            out.append((loan.disbursed_on, 4, n, partial(self.disburse, loan.ref,
                                                          loan.disbursed_on)))
            for k, p in enumerate(story.payments):
                out.append((p.paid_on, 5, n * 100 + k, partial(self.pay, p)))
            if (r := story.reschedule) is not None:
                out.append((r.rescheduled_on, 6, n, lambda r=r: reschedule_loan(  # type: ignore[misc]
                    s, actor=a, loan_id=ids[r.loan_ref], on=r.rescheduled_on, today=today,
                    repayments=r.repayments, first_due_on=r.first_due_on, reason=r.reason)))
            if (w := story.write_off) is not None:
                out.append((w.written_off_on, 7, n, partial(
                    self.write_off, ids, w.loan_ref, w.written_off_on, w.reason)))
            if (rc := story.recovery) is not None:
                out.append((rc.recovered_on, 8, n, lambda rc=rc: record_recovery(  # type: ignore[misc]
                    s, actor=a, loan_id=ids[rc.loan_ref], amount=_riel(rc.amount),
                    on=rc.recovered_on, today=today)))
        for n, g in enumerate(plan.grants):
            out.append((g.paid_on, 9, n, partial(self.grant, g)))
        return sorted(out, key=lambda e: (e[0], e[1], e[2]))

    def write_off(self, ids: dict[str, int], ref: str, on: date, reason: str) -> None:
        pending = propose_write_off(self.s, actor=DEMO_ACTOR, loan_id=ids[ref], on=on,
                                    today=self.today, reason=reason)
        assert pending.id is not None
        approve(self.s, actor=DEMO_APPROVER, approval_id=pending.id, today=self.today)

    def approve(self, ref: str, on: date) -> None:
        approve_loan(self.s, actor=DEMO_ACTOR, loan_id=self.loan_ids[ref], on=on,
                     today=self.today)

    def disburse(self, ref: str, on: date) -> None:
        disburse_loan(self.s, actor=DEMO_ACTOR, loan_id=self.loan_ids[ref], on=on,
                      today=self.today)

    def grant(self, g: DemoGrant) -> None:
        pay_grant(self.s, actor=DEMO_ACTOR, fund_code=DEFAULT_FUND, ref=g.ref,
                  purpose=g.purpose.value, amount=_riel(g.amount), paid_on=g.paid_on,
                  memo=g.note,
                  family_id=self.family_ids.get(g.family_ref) if g.family_ref else None)

    def apply(self, loan: DemoLoan) -> None:
        row = apply_for_loan(
            self.s, actor=DEMO_ACTOR, ref=loan.ref, family_id=self.family_ids[loan.family_ref],
            product_code="FSF", fund_code=DEFAULT_FUND, principal=_riel(loan.principal),
            repayments=loan.repayments, applied_on=loan.applied_on, today=self.today,
            first_due_on=loan.first_due_on)
        assert row.id is not None
        self.loan_ids[loan.ref] = row.id


def build_demo(session: Session, *, seed: int = 2008) -> DemoSummary:
    """Build the deterministic demo ledger into an empty, migrated database."""
    if session.execute(sa.select(col(Family.id)).limit(1)).first() is not None:
        raise ValueError("the demo is built only into an empty ledger")
    plan = build_plan(seed)
    with use_case(session):  # one transaction: the demo appears whole or not at all
        return _build(session, plan)


def _build(session: Session, plan: DemoPlan) -> DemoSummary:
    setup_ledger(session, actor=DEMO_ACTOR, name="Svay Rieng (demo)", province="Svay Rieng",
                 demo=True)
    set_fact(session, "demo_as_of", plan.as_of.isoformat())
    builder = _Builder(session, plan)
    for _day, _order, _n, event in builder.events():
        event()
    # Grids first: a follow-up visit rewrites the family's grid as of that day, so the
    # registration grid must already be there for the visit to build on.
    build_households(session, plan, actor=DEMO_ACTOR, family_ids=builder.family_ids)
    build_training(session, plan, actor=DEMO_ACTOR, family_ids=builder.family_ids,
                   loan_ids=builder.loan_ids)
    disbursed = session.execute(sa.select(sa.func.sum(col(Loan.principal_minor))).where(
        col(Loan.disbursed_on).is_not(None))).scalar_one()
    return DemoSummary(len(builder.family_ids), len(builder.loan_ids), builder.repayments,
                       Money.from_minor(int(disbursed or 0), KHR), plan.as_of)
