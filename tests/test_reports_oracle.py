"""The SQL positions against the pure replay: random small portfolios (early, late, partial and
payoff payments, back-dated payments, reversals, reschedules, write-offs) built through the
services, then every loan compared with `ledger.allocation` + `ledger.arrears` on many days."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from ledger.allocation import allocate, payoff_amount
from ledger.arrears import arrears_as_of
from ledger.db import make_engine
from ledger.db.tables import Loan
from ledger.money import Money
from ledger.reports import loan_register, loan_status
from ledger.reports.rates import fallen_due
from ledger.services.errors import ServiceError
from ledger.services.loan_book import _schedules, _settled, load_payments, load_state
from ledger.services.repayments import payoff_quote, record_repayment, reverse_repayment
from ledger.services.reschedule import reschedule_loan
from ledger.services.writeoffs import write_off_loan
from tests.support.world import ACTOR, TODAY, build_world, riel

START = date(2008, 1, 1)


def _try(service: Any, **kwargs: Any) -> Any:
    """Call a service as an officer would; a refusal (e.g. a payment above the payoff) is
    simply not recorded."""
    try:
        return service(session=kwargs.pop("session"), actor=ACTOR, today=TODAY, **kwargs)
    except ServiceError:
        return None


def _reverse(*, session: Session, actor: Any, today: date, **kwargs: Any) -> Any:
    return reverse_repayment(session, actor=actor, **kwargs)


def build_random_portfolio(session: Session, seed: int, loans: int = 12) -> list[int]:
    """Loans with random histories, made through the services as officers would."""
    rnd = random.Random(seed)
    world = build_world(session, families=loans)
    ids = []
    for n, family in enumerate(world.families):
        on = START + timedelta(days=rnd.randrange(0, 300))
        principal = rnd.randrange(100, 201) * 1000
        repayments = rnd.randrange(6, 13)
        grace = {"grace_principal": rnd.choice([0, 0, 0, 1, 2])}
        loan_id = world.loan(family, principal, repayments=repayments, on=on,
                             ref=f"R{seed}-{n:02d}", **grace)
        ids.append(loan_id)
        installment = principal // repayments + principal // 100
        reschedule_on = (on + timedelta(days=rnd.randrange(70, 200))
                         if rnd.random() < 0.25 else None)
        day = on
        paid: list[int] = []
        for k in range(repayments + 4):
            due = on + timedelta(days=30 * (k + 1))
            kind = rnd.choice(["on-time", "on-time", "early", "late", "partial", "skip",
                               "double", "payoff", "back-dated"])
            if kind == "skip":
                continue
            if kind == "early":
                day = due - timedelta(days=rnd.randrange(1, 20))
            elif kind == "late":
                day = due + timedelta(days=rnd.randrange(1, 70))
            elif kind == "back-dated":
                day = max(on + timedelta(days=1), day - timedelta(days=rnd.randrange(1, 40)))
            else:
                day = due
            day = max(day, on)
            if day > TODAY:
                break
            if reschedule_on is not None and day > reschedule_on:
                _try(reschedule_loan, session=session, loan_id=loan_id, on=reschedule_on,
                     repayments=rnd.randrange(3, 8), reason="flood")
                reschedule_on = None
            amount = {"partial": installment // 2, "double": installment * 2}.get(
                kind, installment)
            amount = max(100, amount // 100 * 100)
            if kind == "payoff":
                quote = payoff_quote(session, actor=ACTOR, loan_id=loan_id, as_of=day)
                amount = int(quote.amount) if quote.amount > 0 else amount
            made = _try(record_repayment, session=session, loan_id=loan_id, amount=riel(amount),
                        paid_on=day)
            if made is not None:
                paid.append(made.id)
        if paid and rnd.random() < 0.3:
            victim = rnd.choice(paid)
            _try(_reverse, session=session, repayment_id=victim, reason="bounced",
                 on=min(TODAY, day + timedelta(days=3)))
        if rnd.random() < 0.15:
            _try(write_off_loan, session=session, loan_id=loan_id,
                 on=min(TODAY, day + timedelta(days=90)), reason="moved away")
    return ids


class Oracle:
    """The pure replay of each loan: the schedule in force on a day (composite over earlier
    reschedules, as `ledger.services.loan_book.load_dues` builds it) and the standing payments
    up to that day. Rows are read once per loan; each day is a pure replay."""

    def __init__(self, session: Session, ids: list[int]) -> None:
        self.loans = {i: session.get(Loan, i) for i in ids}
        self.versions = {}
        self.payments = {}
        for i, loan in self.loans.items():
            assert loan is not None
            self.versions[i] = _schedules(session, loan)
            self.payments[i] = load_payments(session, i, currency=Money.zero("KHR").currency)

    def state(self, loan_id: int, as_of: date):  # type: ignore[no-untyped-def]
        versions, payments = self.versions[loan_id], self.payments[loan_id]
        dues = versions[0][1]
        for created_on, new in versions[1:]:
            if created_on > as_of:
                break
            before = allocate(tuple(dues), [p for p in payments if p.paid_on <= created_on],
                              strict=False)
            settled = _settled(before, created_on)
            dues = settled + [replace(d, number=len(settled) + d.number) for d in new]
        return allocate(tuple(dues), payments, as_of=as_of, strict=False)


def _days(session: Session, ids: list[int]) -> list[date]:
    days = {START + timedelta(days=d) for d in range(0, 600, 37)}
    rows = session.execute(sa.text(
        "SELECT due_date FROM schedule_installment UNION SELECT paid_on FROM repayment")).all()
    picked = sorted({r[0] if isinstance(r[0], date) else date.fromisoformat(r[0]) for r in rows})
    for d in picked[::8]:
        days |= {d - timedelta(days=1), d, d + timedelta(days=1), d + timedelta(days=30)}
    return sorted(days)


def check_against_replay(session: Session, ids: list[int]) -> int:
    """Compare every loan on many days; returns how many (loan, day) pairs were compared."""
    oracle = Oracle(session, ids)
    loans = oracle.loans
    compared = 0
    days = _days(session, ids)
    for as_of in days:
        register = {r.loan_id: r for r in loan_register(session, actor=ACTOR, as_of=as_of)}
        for loan_id, loan in loans.items():
            assert loan is not None and loan.disbursed_on is not None
            if loan.disbursed_on > as_of:
                assert loan_id not in register
                continue
            state = oracle.state(loan_id, as_of)
            want = arrears_as_of(state, as_of)
            got = register[loan_id]
            where = f"loan {loan.ref} as of {as_of}"
            assert got.outstanding_principal.amount == want.outstanding_principal, where
            assert got.interest_due.amount == want.interest_due, where
            assert got.overdue.amount == want.overdue_amount, where
            assert got.days_overdue == want.days_overdue, where
            assert got.bucket == want.bucket.value, where
            compared += 1
    # The slower detailed status (next installment, payoff) on a sample of days.
    for as_of in days[::9]:
        for loan_id, loan in loans.items():
            assert loan is not None and loan.disbursed_on is not None
            status = loan_status(session, actor=ACTOR, loan_id=loan_id, as_of=as_of)
            if loan.disbursed_on > as_of:
                assert status.status == "not_disbursed"
                continue
            state = oracle.state(loan_id, as_of)
            want = arrears_as_of(state, as_of)
            where = f"loan {loan.ref} as of {as_of}"
            assert status.next_due_date == want.next_due_date, where
            assert status.next_due_amount.amount == want.next_due_amount, where
            assert status.oldest_due == want.overdue_since, where
            resched = [c for c, _ in oracle.versions[loan_id][1:] if c == as_of]
            # On the reschedule day itself no payment can be recorded; the replay then counts
            # the old schedule's settled parts as "due that day", the SQL the new schedule.
            if status.status != "written_off" and not resched:
                assert status.payoff.amount == payoff_amount(state, as_of), where
    return compared


def check_on_time(session: Session, ids: list[int]) -> None:
    """The on-time rows (per installment fallen due) against a replay per schedule version."""
    for start, end in ((date(2008, 1, 1), date(2009, 6, 30)), (date(2008, 6, 1),
                                                               date(2008, 9, 30))):
        got = {(r.loan_id, r.due_date): (r.due_minor, r.on_time_minor)
               for r in fallen_due(session, actor=ACTOR, start=start, as_of=end)}
        want: dict[tuple[int, date], tuple[int, int]] = {}
        for loan_id in ids:
            loan = session.get(Loan, loan_id)
            assert loan is not None and loan.id is not None
            versions = _schedules(session, loan)
            payments = load_payments(session, loan.id, currency=Money.zero("KHR").currency)
            for v, (created_on, dues) in enumerate(versions):
                later = [c for c, _ in versions[v + 1:]]
                for due in dues:
                    if not start <= due.due_date <= end:
                        continue
                    if any(c < due.due_date for c in later):
                        continue  # a newer schedule was in force when it fell due
                    if loan.closed_on is not None and loan.closed_on < due.due_date:
                        continue
                    if loan.written_off_on is not None and loan.written_off_on < due.due_date:
                        continue
                    mine = [p for p in payments if v == 0 or p.paid_on > created_on]
                    state = allocate(tuple(dues), mine, as_of=due.due_date, strict=False)
                    inst = next(i for i in state.installments if i.number == due.number)
                    paid = inst.paid.total + inst.waived.total
                    want[(loan_id, due.due_date)] = (int(due.parts.total), int(paid))
        assert {k: (int(a), int(b)) for k, (a, b) in got.items()} == want


def test_positions_match_the_replay(session: Session) -> None:
    ids = build_random_portfolio(session, seed=7)
    assert check_against_replay(session, ids) > 100
    check_on_time(session, ids)


@pytest.mark.parametrize("seed", [23, 42])
def test_positions_match_the_replay_on_more_portfolios(sqlite_url: str, seed: int) -> None:
    engine = make_engine(sqlite_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            ids = build_random_portfolio(session, seed=seed, loans=14)
            states = [load_state(session, session.get(Loan, i)) for i in ids]  # type: ignore[arg-type]
            assert any(s.refused == () for s in states)
            assert check_against_replay(session, ids) > 100
            check_on_time(session, ids)
    finally:
        engine.dispose()


def test_the_generator_makes_every_kind_of_history(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            build_random_portfolio(session, seed=42, loans=14)
            count = lambda sql: session.execute(sa.text(sql)).scalar_one()  # noqa: E731
            assert count("SELECT count(*) FROM repayment_reversal") >= 1
            assert count("SELECT count(*) FROM loan_schedule WHERE version > 1") >= 1
            assert count("SELECT count(*) FROM loan WHERE status = 'closed'") >= 1
            assert count("SELECT count(*) FROM repayment") > 50
    finally:
        engine.dispose()


def test_decimal_exactness_of_the_register(session: Session) -> None:
    ids = build_random_portfolio(session, seed=3, loans=4)
    rows = loan_register(session, actor=ACTOR, as_of=TODAY)
    assert {r.loan_id for r in rows} == set(ids)
    assert all(isinstance(r.outstanding_principal.amount, Decimal) for r in rows)
