"""The bulk repayment path books exactly what `record_repayment` books one payment at a time."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from ledger.allocation import Payment, allocate, payoff_amount
from ledger.db import make_engine
from ledger.db.tables import core_table
from ledger.services.bulk import NewRepayment, post_repayments
from ledger.services.errors import ServiceError
from ledger.services.loan_book import get_loan, load_dues, load_payments
from ledger.services.repayments import record_repayment
from ledger.verify import verify_ledger
from tests.support.world import ACTOR, TODAY, World, build_world, riel


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def two_engines(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[tuple[sa.Engine, ...]]:
    """Two fresh, migrated ledgers on the same kind of database."""
    if request.param == "sqlite":
        first = request.getfixturevalue("sqlite_url")
        template = first.removeprefix("sqlite:///")
        second_path = tmp_path / "second.sqlite"
        second_path.write_bytes(Path(template).read_bytes())
        urls = [first, f"sqlite:///{second_path}"]
    else:
        make: Callable[..., str] = request.getfixturevalue("make_pg_database")
        urls = [make(), make()]
    engines = tuple(make_engine(u) for u in urls)
    yield engines
    for e in engines:
        e.dispose()


def _world(session: Session, loans: int) -> tuple[World, list[int]]:
    world = build_world(session, families=loans)
    ids = []
    for n, fam in enumerate(world.families):
        on = date(2008, 1, 1) + timedelta(days=7 * n)
        ids.append(world.loan(fam, principal=100_000 + 10_000 * (n % 11),
                              repayments=6 + n % 7, on=on, ref=f"L{n:03d}"))
    return world, ids


def _plan(session: Session, loan_ids: list[int], seed: int) -> list[NewRepayment]:
    """Payments that the replay accepts: on time, late, partial, ahead, payoffs."""
    rng = random.Random(seed)
    out: list[NewRepayment] = []
    for loan_id in loan_ids:
        loan = get_loan(session, loan_id)
        stored = load_payments(session, loan_id, currency=riel(0).currency)
        dues = load_dues(session, loan)
        pays: list[Payment] = list(stored)
        for due in dues:
            when = due.due_date + timedelta(days=rng.choice([-10, 0, 0, 3, 20, 45]))
            when = min(when, TODAY)
            total = due.principal + due.interest
            amount = rng.choice([total, total, total - 500, total + 1_000, Decimal(5_000)])
            trial = Payment(10**9 + len(pays), when, amount)
            state = allocate(dues, [*pays, trial], strict=False)
            if state.refused:
                continue
            pays.append(trial)
            out.append(NewRepayment(loan_id, when, riel(int(amount)), ref=f"P{len(out)}"))
            if state.outstanding.total == 0:
                break
        else:
            when = min(dues[-1].due_date + timedelta(days=5), TODAY)
            owed = payoff_amount(allocate(dues, pays, strict=False), when)
            last = Payment(10**9 + len(pays), when, owed)
            if owed > 0 and rng.random() < 0.7 and not allocate(
                    dues, [*pays, last], strict=False).refused:
                out.append(NewRepayment(loan_id, when, riel(int(owed)), ref=f"P{len(out)}"))
    rng.shuffle(out)
    return out


def _snapshot(session: Session) -> dict[str, Any]:
    je, post, acct = core_table("journal_entry"), core_table("posting"), core_table("account")
    rp, loan, ev = core_table("repayment"), core_table("loan"), core_table("loan_event")
    entries: dict[int, list[Any]] = {}
    for seq, kind, on, lid, code, amount, plid, comp in session.execute(
        sa.select(je.c.seq, je.c.kind, je.c.occurred_on, je.c.loan_id, acct.c.code,
                  post.c.amount_minor, post.c.loan_id, post.c.component)
        .join(post, post.c.entry_id == je.c.id).join(acct, acct.c.id == post.c.account_id)
        .order_by(je.c.seq)
    ):
        entries.setdefault(seq, [kind, on, lid]).append((code, amount, plid, comp))
    return {
        "entries": [(*v[:3], sorted(v[3:], key=str)) for _, v in sorted(entries.items())],
        "repayments": session.execute(sa.select(
            rp.c.id, rp.c.ref, rp.c.loan_id, rp.c.paid_on, rp.c.amount_minor)
            .order_by(rp.c.id)).all(),
        "loans": session.execute(sa.select(loan.c.id, loan.c.status, loan.c.closed_on)
                                 .order_by(loan.c.id)).all(),
        "events": session.execute(sa.select(ev.c.loan_id, ev.c.event, ev.c.status,
                                            ev.c.occurred_on).order_by(ev.c.id)).all(),
    }


def test_bulk_posting_equals_one_by_one(two_engines: tuple[sa.Engine, sa.Engine]) -> None:
    bulk_engine, single_engine = two_engines
    with Session(bulk_engine, expire_on_commit=False) as a, \
            Session(single_engine, expire_on_commit=False) as b:
        _, ids_a = _world(a, 30)
        _, ids_b = _world(b, 30)
        assert ids_a == ids_b
        # Some loans already have payments; a few bulk payments land before them (back-dated).
        for s, ids in ((a, ids_a), (b, ids_b)):
            for loan_id in ids[:6]:
                record_repayment(s, actor=ACTOR, loan_id=loan_id, amount=riel(30_000),
                                 paid_on=date(2009, 3, 1), today=TODAY, ref=f"S{loan_id}")
        plan = _plan(a, ids_a, seed=7)
        assert len(plan) > 150
        seen: list[tuple[int, int]] = []
        post_repayments(a, actor=ACTOR, payments=plan, today=TODAY,
                        progress=lambda done, total: seen.append((done, total)))
        assert seen[-1] == (len(plan), len(plan))
        for p in sorted(plan, key=lambda p: p.paid_on):  # stable: ties keep input order
            record_repayment(b, actor=ACTOR, loan_id=p.loan_id, amount=p.amount,
                             paid_on=p.paid_on, today=TODAY, ref=p.ref)
        snap_a, snap_b = _snapshot(a), _snapshot(b)
        assert snap_a == snap_b
        assert any(status == "closed" for _, status, _ in snap_a["loans"])
        assert verify_ledger(a).ok, verify_ledger(a).first_failure


def test_bulk_refuses_the_whole_batch(session: Session) -> None:
    _, ids = _world(session, 2)
    good = NewRepayment(ids[0], date(2008, 2, 1), riel(10_000), ref="OK")
    too_much = NewRepayment(ids[1], date(2008, 2, 1), riel(900_000), ref="BIG")
    with pytest.raises(ServiceError, match="payoff"):
        post_repayments(session, actor=ACTOR, payments=[good, too_much], today=TODAY)
    assert session.execute(sa.select(sa.func.count()).select_from(
        core_table("repayment"))).scalar_one() == 0
    early = NewRepayment(ids[0], date(2007, 12, 1), riel(10_000))
    with pytest.raises(ServiceError, match="before loan"):
        post_repayments(session, actor=ACTOR, payments=[early], today=TODAY)
    post_repayments(session, actor=ACTOR, payments=[good], today=TODAY)
    with pytest.raises(ServiceError, match="already in the ledger"):
        post_repayments(session, actor=ACTOR, payments=[good], today=TODAY)
    assert verify_ledger(session).ok
