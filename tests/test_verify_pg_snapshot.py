"""`fsf verify` on the real PostgreSQL server reads one snapshot: a repayment another
connection commits between verify's journal pass and its loan pass is not half seen (in the
loan book but not in the journal), so it cannot make a sound ledger look broken."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

import ledger.verify
from ledger.db import make_engine
from ledger.services.repayments import record_repayment
from ledger.verify import verify_ledger
from tests.support.world import ACTOR, TODAY, build_world, riel

pytestmark = pytest.mark.postgres


def _ledger(url: str) -> int:
    engine = make_engine(url)
    with Session(engine) as s:
        world = build_world(s, families=2)
        loan = world.loan(world.families[0])
        world.loan(world.families[1])
        record_repayment(s, actor=ACTOR, loan_id=loan, amount=riel(25_000),
                         paid_on=date(2008, 2, 15), today=TODAY)
    engine.dispose()
    return loan


def _pay_between_passes(monkeypatch: pytest.MonkeyPatch, engine: sa.Engine,
                        loan: int) -> list[int]:
    """Post a repayment from another connection once the journal pass is done, before the
    loan book is read; returns the ids posted."""
    posted: list[int] = []
    original: Callable[..., Any] = ledger.verify.loan_book

    def paused(session: Session, *args: Any) -> Any:
        if not posted:
            with Session(engine) as other:
                row = record_repayment(other, actor=ACTOR, loan_id=loan, amount=riel(30_000),
                                       paid_on=date(2008, 3, 15), today=TODAY)
                assert row.id is not None
                posted.append(row.id)
        return original(session, *args)

    monkeypatch.setattr(ledger.verify, "loan_book", paused)
    return posted


def _count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as c:
        return int(c.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


@pytest.mark.parametrize("read_first", [False, True], ids=["fresh session", "session in use"])
def test_a_repayment_committed_mid_verify_is_not_a_false_mismatch(
        pg_url: str, monkeypatch: pytest.MonkeyPatch, read_first: bool) -> None:
    loan = _ledger(pg_url)
    engine = make_engine(pg_url)
    entries_before = _count(engine, "journal_entry")
    posted = _pay_between_passes(monkeypatch, engine, loan)
    with Session(engine) as s:
        if read_first:  # the CLI reads the user and the banner first, in READ COMMITTED
            assert s.execute(sa.text("SELECT count(*) FROM loan")).scalar_one() == 2
        report = verify_ledger(s)
    assert posted, "the repayment was not posted during verify"
    assert report.ok, report.first_failure
    assert report.entries == entries_before  # the snapshot taken before the repayment
    # The repayment really was committed, and the ledger with it verifies.
    assert _count(engine, "journal_entry") == entries_before + 1
    assert _count(engine, "repayment") == 2
    monkeypatch.undo()
    with Session(engine) as s:
        after = verify_ledger(s)
    assert after.ok, after.first_failure
    assert after.entries == entries_before + 1
    engine.dispose()


def test_without_one_snapshot_the_same_interleaving_is_a_false_mismatch(
        pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: statement by statement (READ COMMITTED), the loan pass sees a repayment
    the journal pass did not, so the hook above really lands between the two reads."""
    loan = _ledger(pg_url)
    engine = make_engine(pg_url)
    posted = _pay_between_passes(monkeypatch, engine, loan)

    @contextmanager
    def statement_snapshots(session: Session) -> Iterator[tuple[Session, bool]]:
        yield session, False

    monkeypatch.setattr(ledger.verify, "_snapshot", statement_snapshots)
    with Session(engine) as s:
        report = verify_ledger(s)
    assert posted
    assert not report.ok
    failed = report.first_failure
    assert failed is not None and failed.name == "portfolio = Σ outstanding principal"
    engine.dispose()
