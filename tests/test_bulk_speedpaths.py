"""The fast paths of bulk posting give exactly what the slow ones give.

- `Replay` (payments fed one at a time, the split-only path included) against `allocate`, on
  random schedules and payments, Decimal exponents included.
- `post_repayments` against `record_repayment` one by one, on random histories: loans with
  stored payments, reversed payments, a journal that drifted from the replay, back-dated and
  same-day payments, payoffs that close loans; on SQLite and PostgreSQL, ids included.
"""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from ledger.accounts import AccountRole, account_for
from ledger.allocation import (
    COMPONENT_FIRST,
    DEFAULT_ORDER,
    AllocationError,
    AllocationOrder,
    Due,
    Payment,
    Replay,
    allocate,
    payoff_amount,
)
from ledger.chain import GENESIS_HASH, EntryContent, PostingContent, entry_hash
from ledger.db import make_engine
from ledger.db.tables import core_table
from ledger.journal import Line, post_entry
from ledger.money import Money
from ledger.services.bulk import NewRepayment, post_repayments
from ledger.services.loan_book import get_loan, load_dues, load_payments
from ledger.services.repayments import record_repayment, reverse_repayment
from ledger.services.unit import use_case
from ledger.verify import verify_ledger
from tests.support.day_totals import assert_day_totals_hold, stored_day_totals
from tests.support.world import ACTOR, TODAY, World, build_world, riel

START = date(2024, 1, 1)


@st.composite
def schedules(draw: st.DrawFn) -> tuple[tuple[Due, ...], list[Payment]]:
    """1-7 installments and up to 10 payments; amounts mix exponents (riel, cents, 1E+1)."""

    def amount(high: int) -> Decimal:
        if draw(st.integers(0, 5)) == 0:
            return Decimal(0).scaleb(-draw(st.integers(-1, 2)))
        digits = draw(st.sampled_from([0, 0, 2, 1, -1]))
        return Decimal(draw(st.integers(0, high))).scaleb(-digits)

    dues, day = [], START
    for number in range(1, draw(st.integers(1, 7)) + 1):
        day += timedelta(days=draw(st.integers(1, 45)))
        dues.append(Due(number, day, amount(200_000), amount(6_000),
                        amount(800) if draw(st.booleans()) else Decimal(0),
                        amount(2_000) if draw(st.integers(0, 3)) == 0 else Decimal(0)))
    total = sum((d.parts.total for d in dues), Decimal(0))
    payments = []
    for ref in range(draw(st.integers(0, 10))):
        paid_on = START + timedelta(days=draw(st.integers(0, (day - START).days + 60)))
        value = draw(st.one_of(
            st.builds(amount, st.just(250_000)),
            st.integers(1, 12).map(lambda n: (total / n).quantize(Decimal(1))),
            st.sampled_from([d.principal + d.interest for d in dues])))
        payments.append(Payment(ref if ref % 3 else f"r{ref}", paid_on, value))
    return tuple(dues), payments


ORDERS = st.sampled_from([DEFAULT_ORDER, COMPONENT_FIRST,
                          AllocationOrder(("interest", "principal", "penalty", "fee"))])


def _replay_order(p: Payment) -> tuple[date, int, int, str]:
    return (p.paid_on, 1, 0, p.ref) if isinstance(p.ref, str) else (p.paid_on, 0, p.ref, "")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedules(), ORDERS)
def test_replay_fed_in_order_equals_allocate(
        loan: tuple[tuple[Due, ...], list[Payment]], order: AllocationOrder) -> None:
    dues, payments = loan
    state = allocate(dues, payments, order=order, strict=False)
    accepted = {a.payment.ref: a for a in state.allocations}
    refused = {r.payment.ref: r for r in state.refused}
    whole, split = Replay(dues, order=order), Replay(dues, order=order)
    for p in sorted(payments, key=_replay_order):
        got, parts = whole.add(p), split.split(p)
        if p.ref in refused:
            assert repr(got) == repr(parts) == repr(refused[p.ref])
        else:
            # repr: the same amounts with the same Decimal exponents.
            assert repr(got) == repr(accepted[p.ref])
            assert repr(parts) == repr(accepted[p.ref].parts)
    assert whole.settled == split.settled == (state.outstanding.total == 0)
    assert whole.paid == split.paid == state.paid


def test_replay_refuses_payments_out_of_order() -> None:
    dues = (Due(1, date(2024, 2, 1), Decimal(1000), Decimal(100)),)
    replay = Replay(dues)
    replay.add(Payment(2, date(2024, 1, 10), Decimal(100)))
    with pytest.raises(AllocationError, match="does not come after"):
        replay.split(Payment(1, date(2024, 1, 10), Decimal(100)))
    with pytest.raises(AllocationError, match="does not come after"):
        replay.add(Payment(3, date(2024, 1, 9), Decimal(100)))


def _loans(session: Session, count: int) -> tuple[World, list[int]]:
    world = build_world(session, families=count)
    return world, [world.loan(fam, principal=100_000 + 20_000 * (n % 5), repayments=6 + n % 7,
                              on=date(2008, 1, 3) + timedelta(days=9 * n), ref=f"L{n:02d}")
                   for n, fam in enumerate(world.families)]


def _history(session: Session, ids: list[int], seed: int) -> None:
    """Stored payments on most loans, a few reversed, and one loan whose journal drifted from
    the replay (a hand-posted reallocation): the same script on each twin."""
    rng = random.Random(seed)
    for n, loan_id in enumerate(ids):
        dues = load_dues(session, get_loan(session, loan_id))
        paid = rng.randint(1 if n == 2 else 0, len(dues) - 1)
        for k, due in enumerate(dues[:paid]):
            when = min(due.due_date + timedelta(days=rng.choice([-3, 0, 5, 12])), TODAY)
            amount = int(due.principal + due.interest) - rng.choice([0, 0, 1_000])
            record_repayment(session, actor=ACTOR, loan_id=loan_id, amount=riel(amount),
                             paid_on=when, today=TODAY, ref=f"S{loan_id}-{k}")
        stored = load_payments(session, loan_id, currency=riel(0).currency)
        if stored and n % 4 == 1:
            gone = stored[rng.randrange(len(stored))]
            reverse_repayment(session, actor=ACTOR, repayment_id=int(gone.ref),
                              reason="entered twice", on=min(gone.paid_on + timedelta(days=3),
                                                             TODAY))
        if stored and n == 2:
            loan = get_loan(session, loan_id)
            income = account_for(session, AccountRole.INTEREST_INCOME, fund_id=loan.fund_id)
            portfolio = account_for(session, AccountRole.LOAN_PORTFOLIO, fund_id=loan.fund_id)
            assert income.id is not None and portfolio.id is not None
            with use_case(session):
                post_entry(session, kind="reallocation", occurred_on=stored[-1].paid_on,
                           by=ACTOR.name, loan_id=loan_id, memo="moved by hand",
                           lines=[Line(income.id, riel(700), loan_id=loan_id,
                                       component="interest"),
                                  Line(portfolio.id, riel(-700), loan_id=loan_id,
                                       component="principal")])


def _plan(session: Session, ids: list[int], seed: int) -> list[NewRepayment]:
    """Payments `record_repayment` accepts one by one in (date, input) order: after and
    before stored ones, on the same day, partial, ahead, payoffs that close the loan."""
    rng = random.Random(seed * 7 + 1)
    candidates: list[NewRepayment] = []
    for loan_id in ids:
        loan = get_loan(session, loan_id)
        assert loan.disbursed_on is not None
        dues = load_dues(session, loan)
        stored = load_payments(session, loan_id, currency=riel(0).currency)
        days = [d.due_date for d in dues] + [p.paid_on for p in stored]
        for _ in range(rng.randint(0, 5)):
            when = rng.choice(days) + timedelta(days=rng.choice([-20, -1, 0, 0, 2, 30]))
            when = max(min(when, TODAY), loan.disbursed_on)
            due = rng.choice(dues)
            amount = rng.choice([due.principal + due.interest, due.interest + 1,
                                 Decimal(3_000), (due.principal + due.interest) * 2])
            candidates.append(NewRepayment(loan_id, when, riel(int(amount)),
                                           ref=f"N{len(candidates)}"))
        if rng.random() < 0.5:
            when = min(dues[-1].due_date + timedelta(days=rng.choice([-40, 0, 9])), TODAY)
            owed = payoff_amount(allocate(dues, stored, strict=False), when)
            if owed > 0:
                candidates.append(NewRepayment(loan_id, when, riel(int(owed)),
                                               ref=f"N{len(candidates)}"))
    rng.shuffle(candidates)
    # Keep what one-by-one posting accepts, simulated with the pure replay.
    accepted: set[str] = set()
    taken: dict[int, list[Payment]] = {}
    for n in sorted(range(len(candidates)), key=lambda n: candidates[n].paid_on):
        c = candidates[n]
        dues = load_dues(session, get_loan(session, c.loan_id))
        pays = [*load_payments(session, c.loan_id, currency=riel(0).currency),
                *taken.get(c.loan_id, [])]
        state = allocate(dues, pays, strict=False)
        if state.allocations and state.outstanding.total == 0:
            continue  # closed: the service refuses payments to it
        new = Payment(10**12 + len(accepted), c.paid_on, c.amount.amount)
        try:
            state.with_payment(new, strict=True)
        except AllocationError:
            continue
        taken.setdefault(c.loan_id, []).append(new)
        accepted.add(str(c.ref))
    return [c for c in candidates if c.ref in accepted]


def _snapshot(session: Session) -> dict[str, Any]:
    je, post, acct = core_table("journal_entry"), core_table("posting"), core_table("account")
    rp, loan, ev = core_table("repayment"), core_table("loan"), core_table("loan_event")
    return {
        "entries": session.execute(sa.select(
            je.c.id, je.c.seq, je.c.kind, je.c.occurred_on, je.c.loan_id, je.c.memo,
            je.c.created_by, je.c.reverses_id).order_by(je.c.seq)).all(),
        "postings": session.execute(sa.select(
            post.c.id, post.c.entry_id, acct.c.code, post.c.currency, post.c.amount_minor,
            post.c.loan_id, post.c.component).join(acct, acct.c.id == post.c.account_id)
            .order_by(post.c.id)).all(),
        "repayments": session.execute(sa.select(
            rp.c.id, rp.c.ref, rp.c.loan_id, rp.c.paid_on, rp.c.amount_minor, rp.c.currency,
            rp.c.cash_account_id, rp.c.received_by, rp.c.note, rp.c.entry_id)
            .order_by(rp.c.id)).all(),
        "loans": session.execute(sa.select(loan.c.id, loan.c.status, loan.c.closed_on)
                                 .order_by(loan.c.id)).all(),
        "events": session.execute(sa.select(
            ev.c.id, ev.c.loan_id, ev.c.event, ev.c.status, ev.c.occurred_on, ev.c.recorded_by,
            ev.c.note).order_by(ev.c.id)).all(),
        "day totals": stored_day_totals(session),
    }


def _chain_holds(session: Session) -> int:
    """Recompute every entry's hash with `entry_hash` from the rows as stored (the reference
    the one-by-one path uses), check each link, and the day totals against the postings;
    return the number of entries."""
    assert_day_totals_hold(session)
    je, post, acct = core_table("journal_entry"), core_table("posting"), core_table("account")
    rev = je.alias("rev")
    lines: dict[int, list[PostingContent]] = {}
    for entry_id, code, currency, amount, loan_id, component in session.execute(
            sa.select(post.c.entry_id, acct.c.code, post.c.currency, post.c.amount_minor,
                      post.c.loan_id, post.c.component)
            .join(acct, acct.c.id == post.c.account_id).order_by(post.c.id)):
        lines.setdefault(entry_id, []).append(
            PostingContent(code, currency, amount, loan_id, component))
    prev, count = GENESIS_HASH, 0
    for row in session.execute(
            sa.select(je, rev.c.seq.label("reverses_seq"))
            .outerjoin(rev, rev.c.id == je.c.reverses_id).order_by(je.c.seq)).mappings():
        content = EntryContent(
            seq=row["seq"], kind=row["kind"], occurred_on=row["occurred_on"], memo=row["memo"],
            created_by=row["created_by"], created_at=row["created_at"], loan_id=row["loan_id"],
            reverses_seq=row["reverses_seq"], postings=tuple(lines[row["id"]]))
        assert row["prev_hash"] == prev
        assert row["hash"] == entry_hash(prev, content), row["seq"]
        prev, count = row["hash"], count + 1
    return count


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bulk_equals_one_by_one_on_random_histories(
        twins: tuple[Session, Session], seed: int) -> None:
    bulk, single = twins
    ids = _loans(bulk, 14)[1]
    assert _loans(single, 14)[1] == ids
    _history(bulk, ids, seed)
    _history(single, ids, seed)
    plan = _plan(bulk, ids, seed)
    assert len(plan) > 10
    before = _snapshot(bulk)
    assert before == _snapshot(single)
    post_repayments(bulk, actor=ACTOR, payments=plan, today=TODAY)
    for p in sorted(plan, key=lambda p: p.paid_on):  # stable: ties keep input order
        record_repayment(single, actor=ACTOR, loan_id=p.loan_id, amount=p.amount,
                         paid_on=p.paid_on, today=TODAY, ref=p.ref)
    after = _snapshot(bulk)
    assert after == _snapshot(single)
    assert len(after["repayments"]) == len(before["repayments"]) + len(plan)
    assert any(status == "closed" for _, status, _ in after["loans"])
    for s in twins:
        report = verify_ledger(s)
        assert report.ok, report.first_failure
    assert _chain_holds(bulk) == len(after["entries"])


def test_bulk_books_the_drift_of_a_hand_moved_journal(
        twins: tuple[Session, Session]) -> None:
    bulk, single = twins
    ids = _loans(bulk, 3)[1]
    _loans(single, 3)
    for s in twins:
        _history(s, ids, seed=5)
    loan_id = ids[2]
    stored = load_payments(bulk, loan_id, currency=riel(0).currency)
    assert stored  # the drifted loan has payments
    plan = [NewRepayment(loan_id, TODAY, riel(5_000), ref="D1"),
            NewRepayment(loan_id, TODAY, riel(5_000), ref="D2")]
    post_repayments(bulk, actor=ACTOR, payments=plan, today=TODAY)
    for p in plan:
        record_repayment(single, actor=ACTOR, loan_id=p.loan_id, amount=p.amount,
                         paid_on=p.paid_on, today=TODAY, ref=p.ref)
    assert _snapshot(bulk) == _snapshot(single)
    post, je = core_table("posting"), core_table("journal_entry")
    first = bulk.execute(sa.select(post.c.component, post.c.amount_minor)
                         .join(je, je.c.id == post.c.entry_id)
                         .where(je.c.kind == "repayment", post.c.component.is_not(None))
                         .order_by(je.c.seq.desc(), post.c.id).limit(8)).all()
    # The first new payment puts back the 700 riel moved by hand (interest, principal).
    assert sum(a for c, a in first if c == "interest") <= -700


def test_bulk_rows_are_stored_as_the_orm_stores_them(sqlite_url: str) -> None:
    """Dates and timestamps the bulk path hands the SQLite driver have the exact text the
    ORM writes (what every query that compares or sorts them relies on)."""
    engine = make_engine(sqlite_url)
    with Session(engine, expire_on_commit=False) as session:
        ids = _loans(session, 3)[1]
        record_repayment(session, actor=ACTOR, loan_id=ids[0], amount=riel(10_000),
                         paid_on=date(2008, 3, 1), today=TODAY, ref="ORM")
        post_repayments(session, actor=ACTOR, today=TODAY, payments=[
            NewRepayment(i, date(2008, 4, 2), Money.parse(10_000, "KHR"), ref=f"B{i}")
            for i in ids])
        conn = session.connection()
        shapes: dict[str, set[tuple[str, ...]]] = {}
        for sql in ("SELECT kind, typeof(occurred_on), occurred_on, typeof(created_at), "
                    "created_at FROM journal_entry WHERE kind = 'repayment'",
                    "SELECT ref = 'ORM', typeof(paid_on), paid_on, typeof(created_at), "
                    "created_at FROM repayment"):
            for key, day_type, day, at_type, at in conn.exec_driver_sql(sql):
                shapes.setdefault(str(key), set()).add(
                    (day_type, re.sub(r"\d", "9", day), at_type, re.sub(r"\d", "9", at)))
        rows = session.execute(sa.select(sa.func.count()).select_from(
            core_table("repayment"))).scalar_one()
    engine.dispose()
    assert rows == 4
    shape = ("text", "9999-99-99", "text", "9999-99-99 99:99:99.999999")
    # Rows written by the ORM (ref 'ORM': 1) and by the bulk path (0), and every entry.
    assert shapes == {"1": {shape}, "0": {shape}, "repayment": {shape}}
