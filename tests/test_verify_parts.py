"""`fsf verify` in two processes (`ledger.verify_parts`) gives the verdict of one pass, word for
word, on SQLite and PostgreSQL: on a sound ledger, with an edit at every entry in turn (before
the cut, at it and after it), with a record changed in either part, and where it must fall back
to one pass (ids out of the chain's order, a child that fails). Both processes read one
snapshot: a repayment committed while they scan is in neither."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

import ledger.verify
import ledger.verify_parts
import ledger.verify_records
from ledger.accounts import AccountRole, account_for
from ledger.db import make_engine
from ledger.services.repayments import record_repayment
from ledger.verify import VerifyReport, verify_ledger
from tests.support.tamper import money_ledger, tamper
from tests.support.world import ACTOR, TODAY, World, build_world, riel


@pytest.fixture
def world(session: Session) -> World:
    w = build_world(session, families=4)
    money_ledger(w)
    return w


class Both:
    """Verify run both ways on one session; `joined` counts the runs the parts made."""

    def __init__(self, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
        self.session, self.monkeypatch, self.joined = session, monkeypatch, 0
        real = ledger.verify_parts._join

        def counted(*args: Any) -> Any:
            self.joined += 1
            return real(*args)

        monkeypatch.setattr(ledger.verify_parts, "_join", counted)

    def run(self, parallel_from: int) -> VerifyReport:
        self.monkeypatch.setattr(ledger.verify_parts, "PARALLEL_FROM", parallel_from)
        report = verify_ledger(self.session)
        self.session.rollback()
        return report

    def same(self) -> VerifyReport:
        """The one-pass report, after checking that the parts give it too."""
        one, parts = self.run(10**12), self.run(1)
        assert parts == one
        return one


@pytest.fixture
def both(world: World, monkeypatch: pytest.MonkeyPatch) -> Both:
    return Both(world.session, monkeypatch)


def _ids(s: Session, sql: str) -> list[int]:
    return [int(i) for (i,) in s.execute(sa.text(sql)).all()]


def _paying(s: Session) -> tuple[sa.Engine, int, int]:
    """The session's engine, the PAYING loan's id and the number of journal entries."""
    engine = s.get_bind()
    assert isinstance(engine, sa.Engine)
    loan = _ids(s, "SELECT id FROM loan WHERE ref = 'PAYING'")[0]
    before = _ids(s, "SELECT count(*) FROM journal_entry")[0]
    s.rollback()
    return engine, loan, before


def test_a_sound_ledger_verifies_the_same_in_parts(both: Both) -> None:
    report = both.same()
    assert report.ok and report.entries > 10
    assert both.joined == 1


def test_an_edit_at_any_entry_is_named_the_same_in_parts(world: World, both: Both) -> None:
    s = world.session
    entries = _ids(s, "SELECT id FROM journal_entry ORDER BY id")
    for entry in entries:
        memo = s.execute(sa.text("SELECT memo FROM journal_entry WHERE id = :i"),
                         {"i": entry}).scalar_one()
        tamper(s, f"UPDATE journal_entry SET memo = 'changed' WHERE id = {entry}",
               tables=("journal_entry",))
        report = both.same()
        assert report.first_failure is not None
        assert report.first_failure.detail.startswith(f"entry {report.entries + 1} (id {entry})")
        s.execute(sa.text("UPDATE journal_entry SET memo = :m WHERE id = :i"),
                  {"m": memo, "i": entry})
        s.commit()
    assert both.same().ok
    assert both.joined == len(entries) + 1


def test_an_entry_removed_at_the_cut_is_named_the_same(world: World, both: Both) -> None:
    s = world.session
    lo, hi = s.execute(sa.text("SELECT min(id), max(id) FROM journal_entry")).one()
    paid = _ids(s, "SELECT entry_id FROM repayment ORDER BY entry_id")
    s.rollback()
    # The first entry of the second part, then the last of the first part.
    for entry, cut in ((paid[len(paid) // 2], 0), (paid[len(paid) // 2 - 2], 1)):
        both.monkeypatch.setattr(ledger.verify_parts, "FIRST_SHARE",
                                 (entry + cut - lo + 0.5) / (hi - lo + 1))
        both.run(1)
        parts = ledger.verify_parts._plan(s)
        s.rollback()
        assert parts is not None and parts[1].entries[0] == entry + cut
        tamper(s, f"DELETE FROM repayment WHERE entry_id = {entry}",
               f"DELETE FROM posting WHERE entry_id = {entry}",
               f"DELETE FROM journal_entry WHERE id = {entry}",
               tables=("repayment", "posting", "journal_entry"))
        report = both.same()
        assert report.first_failure is not None and "link" in report.first_failure.detail
    assert both.joined == 4


def test_a_repayment_changed_in_either_part_is_named_the_same(world: World, both: Both) -> None:
    s = world.session
    repayments = _ids(s, "SELECT id FROM repayment ORDER BY id")
    for repayment in repayments:
        tamper(s, f"UPDATE repayment SET amount_minor = amount_minor + 100 WHERE id = "
                  f"{repayment}", tables=("repayment",))
        report = both.same()
        assert report.first_failure is not None
        assert report.first_failure.name == "repayment records = their journal entries"
        tamper(s, f"UPDATE repayment SET amount_minor = amount_minor - 100 WHERE id = "
                  f"{repayment}")
    assert both.joined == len(repayments)


def test_ids_out_of_the_chains_order_fall_back_to_one_pass(world: World, both: Both) -> None:
    s = world.session
    entry = _ids(s, "SELECT min(entry_id) FROM repayment")[0]
    cash = account_for(s, AccountRole.CASH, fund_id=1).id
    tamper(s, "INSERT INTO posting (entry_id, account_id, currency, amount_minor) "
              f"VALUES ({entry}, {cash}, 'KHR', 1)")
    report = both.same()
    assert report.first_failure is not None and f"(id {entry})" in report.first_failure.detail
    assert both.joined == 0


def test_a_child_that_fails_leaves_the_work_to_one_pass(
        both: Both, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_: object) -> None:
        raise RuntimeError("the child's connection went away")

    monkeypatch.setattr(ledger.verify_records.RecordMatch, "state", broken)
    assert both.same().ok
    assert both.joined == 0


def test_a_repayment_committed_while_the_parts_scan_is_in_neither(
        world: World, both: Both, monkeypatch: pytest.MonkeyPatch) -> None:
    engine, loan, before = _paying(world.session)
    parent, posted = os.getpid(), []
    real: Callable[..., Any] = ledger.verify_parts.verify_scan.scan

    def scan_after_a_payment(*args: Any, **kwargs: Any) -> Any:
        if os.getpid() == parent and not posted:  # the child has its snapshot by now
            with Session(engine) as other:
                row = record_repayment(other, actor=ACTOR, loan_id=loan, amount=riel(9_000),
                                       paid_on=date(2008, 5, 15), today=TODAY)
                posted.append(row.id)
        return real(*args, **kwargs)

    monkeypatch.setattr(ledger.verify_parts.verify_scan, "scan", scan_after_a_payment)
    report = both.run(1)
    assert posted and both.joined == 1
    assert report.ok, report.first_failure
    assert report.entries == before
    assert both.run(1).entries == before + 1


def test_nothing_committed_as_the_child_starts_is_seen_by_one_part_only(
        world: World, both: Both, monkeypatch: pytest.MonkeyPatch) -> None:
    # SQLite: writers wait until the child has its snapshot, so the payment is refused.
    # PostgreSQL: it commits, and the child reads the parent's exported snapshot without it.
    engine, loan, before = _paying(world.session)
    tried: list[str] = []
    real = ledger.verify_parts._Second.__init__

    def pay_then_start(self: Any, *args: Any) -> None:
        other_engine = make_engine(engine.url.render_as_string(hide_password=False),
                                   busy_timeout_ms=200)
        try:
            with Session(other_engine) as other:
                record_repayment(other, actor=ACTOR, loan_id=loan, amount=riel(9_000),
                                 paid_on=date(2008, 5, 15), today=TODAY)
            tried.append("committed")
        except sa.exc.OperationalError as exc:
            assert "locked" in str(exc)
            tried.append("refused")
        finally:
            other_engine.dispose()
        real(self, *args)

    monkeypatch.setattr(ledger.verify_parts._Second, "__init__", pay_then_start)
    report = both.run(1)
    assert both.joined == 1
    assert tried == ["refused" if engine.dialect.name == "sqlite" else "committed"]
    assert report.ok, report.first_failure
    assert report.entries == before


def test_a_writer_holding_the_lock_leaves_the_work_to_one_pass(
        sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # SQLite only: there the parent holds writers off while the child opens its snapshot.
    def impatient(url: str, **kwargs: Any) -> sa.Engine:
        return make_engine(url, **{**kwargs, "busy_timeout_ms": 100})

    engine = make_engine(sqlite_url)
    with Session(engine) as s:
        money_ledger(build_world(s, families=4))
        _, _, before = _paying(s)
        both = Both(s, monkeypatch)
        monkeypatch.setattr(ledger.verify_parts, "make_engine", impatient)
        with engine.connect() as writer:
            writer.begin()  # BEGIN IMMEDIATE: the write lock, held through verify
            report = both.run(1)
            writer.rollback()
    engine.dispose()
    assert report.ok and report.entries == before
    assert both.joined == 0


def test_falling_back_does_not_replay_the_loan_book_twice(
        both: Both, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_: object) -> None:
        raise RuntimeError("the child's connection went away")

    calls = []
    real = ledger.verify.replay_book

    def counted(books: Any) -> Any:
        calls.append(1)
        return real(books)

    monkeypatch.setattr(ledger.verify_records.RecordMatch, "state", broken)
    monkeypatch.setattr(ledger.verify, "replay_book", counted)
    assert both.run(1).ok
    assert both.joined == 0 and calls == [1]
