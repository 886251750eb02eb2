"""Several officers at once on the real PostgreSQL server: threads post repayments (all on the
same two loans, so they collide), reversals and new disbursements for a bounded time; then the
chain verifies and every balance equals the sum of what the threads saw committed."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.accounts import AccountRole
from ledger.actor import Actor, Role
from ledger.db import make_engine
from ledger.db.tables import Repayment, RepaymentReversal, core_table
from ledger.services.errors import ServiceError
from ledger.services.loans import apply_for_loan, approve_loan, disburse_loan
from ledger.services.repayments import record_repayment, reverse_repayment
from ledger.verify import verify_ledger
from tests.support.world import TODAY, build_world, riel

pytestmark = pytest.mark.postgres

SECONDS = 4.0
THREADS = 4
MIN_REPAYMENTS = 6  # per thread, whatever the machine's load
DEADLINE = 60.0  # seconds past SECONDS before a thread gives up
PAID_ON = date(2008, 2, 1)


@dataclass
class Tally:
    """What one thread saw committed."""

    repaid: Counter[int] = field(default_factory=Counter)  # loan id -> riel
    disbursed: Counter[int] = field(default_factory=Counter)
    entries: Counter[str] = field(default_factory=Counter)
    mine: list[tuple[int, int, int]] = field(default_factory=list)  # (repayment, loan, amount)
    errors: list[BaseException] = field(default_factory=list)


def _officer(n: int) -> Actor:
    return Actor(f"officer{n}", frozenset({Role.OFFICER, Role.APPROVER}), user_id=100 + n)


def _going(tally: Tally, stop: float) -> bool:
    """Run for the bounded time and, on a slow machine, until this thread has really collided
    (enough repayments and a reversal), with a hard deadline so a stuck thread still ends."""
    now = time.monotonic()
    if now >= stop + DEADLINE:
        return False
    collided = tally.entries["repayment"] >= MIN_REPAYMENTS and tally.entries["reversal"] > 0
    return now < stop or not collided


def _work(engine: sa.Engine, n: int, hot: list[int], families: list[int], stop: float,
          tally: Tally) -> None:
    rnd = random.Random(n)
    me = _officer(n)
    try:
        with Session(engine, expire_on_commit=False) as s:
            while _going(tally, stop):
                pick = rnd.random()
                if pick < 0.15 and tally.mine:
                    rep_id, loan, amount = tally.mine.pop(rnd.randrange(len(tally.mine)))
                    reverse_repayment(s, actor=me, repayment_id=rep_id, reason="entered twice",
                                      on=PAID_ON)
                    tally.repaid[loan] -= amount
                    tally.entries["reversal"] += 1
                elif pick < 0.25 and families:
                    fam = families.pop()
                    loan = apply_for_loan(s, actor=me, ref=f"C{fam}", family_id=fam,
                                          product_code="FSF", fund_code="RIEL",
                                          principal=riel(150_000), repayments=10,
                                          applied_on=PAID_ON, today=TODAY)
                    assert loan.id is not None
                    approve_loan(s, actor=_officer(n + 10), loan_id=loan.id, on=PAID_ON,
                                 today=TODAY)
                    disburse_loan(s, actor=me, loan_id=loan.id, on=PAID_ON, today=TODAY)
                    tally.disbursed[loan.id] += 150_000
                    tally.entries["disbursement"] += 1
                else:
                    loan = hot[rnd.randrange(len(hot))]
                    amount = rnd.choice((500, 1_000, 1_500))
                    try:
                        row = record_repayment(s, actor=me, loan_id=loan, amount=riel(amount),
                                               paid_on=PAID_ON, today=TODAY)
                    except ServiceError:  # more than the payoff: refused, nothing posted
                        continue
                    assert row.id is not None
                    tally.repaid[loan] += amount
                    tally.entries["repayment"] += 1
                    tally.mine.append((row.id, loan, amount))
    except BaseException as exc:  # reported by the main thread
        tally.errors.append(exc)


def test_concurrent_officers_lose_nothing_and_keep_one_chain(pg_url: str) -> None:
    setup = make_engine(pg_url)
    with Session(setup, expire_on_commit=False) as s:
        world = build_world(s, families=2 + 4 * THREADS)
        hot = [world.loan(f) for f in world.families[:2]]
        spare = world.families[2:]
    setup.dispose()
    engine = make_engine(pg_url, pool_size=THREADS, max_overflow=0)
    tallies = [Tally() for _ in range(THREADS)]
    shares = [spare[i::THREADS] for i in range(THREADS)]
    stop = time.monotonic() + SECONDS
    threads = [threading.Thread(target=_work, args=(engine, n, hot, shares[n], stop, t))
               for n, t in enumerate(tallies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=SECONDS + DEADLINE + 30)
    assert not any(t.is_alive() for t in threads)
    for t in tallies:
        assert not t.errors, t.errors
    repaid = sum((t.repaid for t in tallies), Counter())
    disbursed = sum((t.disbursed for t in tallies), Counter())
    kinds = sum((t.entries for t in tallies), Counter())
    assert kinds["repayment"] > 20 and kinds["reversal"] >= 1  # they really did collide

    with Session(engine) as s:
        report = verify_ledger(s)
        assert report.ok, report.first_failure
        je, post, acct = core_table("journal_entry"), core_table("posting"), core_table("account")
        seqs = list(s.execute(sa.select(je.c.seq).order_by(je.c.seq)).scalars())
        assert seqs == list(range(1, len(seqs) + 1))  # one chain, no gap, no fork
        counted = dict(s.execute(sa.select(je.c.kind, sa.func.count()).group_by(je.c.kind)).all())
        assert counted["repayment"] == kinds["repayment"]
        assert counted.get("reversal", 0) == kinds["reversal"]
        assert counted["disbursement"] == 2 + kinds["disbursement"]
        # Every loan's standing repayments are exactly what the threads saw committed.
        standing = sa.select(Repayment.loan_id, sa.func.sum(Repayment.amount_minor)).where(  # type: ignore[call-overload]
            Repayment.id.not_in(sa.select(RepaymentReversal.repayment_id))  # type: ignore[union-attr]
        ).group_by(Repayment.loan_id)
        in_db = {int(k): int(v) for k, v in s.execute(standing).all()}
        assert {k: v for k, v in in_db.items() if v} == {k: v for k, v in repaid.items() if v}
        # Cash = capital − loans paid out + standing repayments, to the riel.
        cash = s.execute(sa.select(sa.func.sum(post.c.amount_minor)).join(
            acct, acct.c.id == post.c.account_id).where(
            acct.c.role == AccountRole.CASH.value)).scalar_one()
        assert int(cash) == 10_000_000 - 2 * 200_000 - sum(disbursed.values()) + sum(
            repaid.values())
        # And each hot loan's allocation never exceeded what it owed.
        for loan in hot:
            owed = s.execute(sa.select(sa.func.sum(post.c.amount_minor)).join(
                acct, acct.c.id == post.c.account_id).where(
                acct.c.role == AccountRole.LOAN_PORTFOLIO.value,
                post.c.loan_id == loan)).scalar_one()
            assert 0 <= int(owed) <= 200_000
    engine.dispose()
