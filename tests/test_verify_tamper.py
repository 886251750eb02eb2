"""`fsf verify` against edits made behind the app's back, on SQLite and PostgreSQL.

A small real ledger (repayments, a reversal, a payoff, a reschedule, a write-off and a
recovery) verifies; then someone with a database shell drops the append-only triggers and
changes one thing. Verify must fail, and the first failed check must name what broke: the
entry by seq, the repayment, the loan. The fast paths of verify (the scan's text, the integer
replay) are held to the slow, sure ones they stand in for.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

import ledger.verify_scan
from ledger.accounts import AccountRole, account_for, ensure_capital_account
from ledger.journal import Line, post_entry
from ledger.verify import VerifyReport, verify_ledger
from tests.support.tamper import money_ledger as _ledger
from tests.support.tamper import tamper as _tamper
from tests.support.world import World, build_world, riel


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session, families=4)


def _failure(s: Session) -> tuple[str, str]:
    report = verify_ledger(s)
    s.rollback()
    failure = report.first_failure
    assert not report.ok and failure is not None
    return failure.name, failure.detail


def _one(s: Session, sql: str, **params: object) -> Any:
    """The single value a query finds (what the ledger holds, read past the ORM)."""
    return s.execute(sa.text(sql), params).scalar_one()


def _seq(s: Session, entry_id: int) -> int:
    return int(_one(s, "SELECT seq FROM journal_entry WHERE id = :i", i=entry_id))


def _entry_of(s: Session, repayment_id: int) -> int:
    return int(_one(s, "SELECT entry_id FROM repayment WHERE id = :i", i=repayment_id))


def _first_repayment(s: Session, loan_id: int) -> tuple[int, int]:
    """(repayment id, entry id) of the loan's first repayment."""
    rid = int(_one(s, "SELECT min(id) FROM repayment WHERE loan_id = :l", l=loan_id))
    return rid, _entry_of(s, rid)


def test_the_untampered_ledger_verifies_every_check(world: World) -> None:
    _ledger(world)
    report = verify_ledger(world.session)
    assert report.ok, report.first_failure
    names = [c.name for c in report.checks]
    assert names[:3] == ["hash chain and balanced entries", "repayment records = their journal "
                         "entries", "portfolio = Σ outstanding principal"]
    last = world.session.execute(sa.text(
        "SELECT seq, hash FROM journal_entry ORDER BY seq DESC LIMIT 1")).one()
    assert (report.last_seq, report.last_hash) == (last[0], last[1])


# (table, SET clause, which row of the first repayment's entry): one journal edit each.
JOURNAL_EDITS = [
    ("posting", "amount_minor = amount_minor + 100", "id = (SELECT min(id) FROM posting "
     "WHERE entry_id = {entry})"),
    ("posting", "account_id = (SELECT min(id) FROM account WHERE role = 'interest_income')",
     "entry_id = {entry} AND component = 'principal'"),
    ("journal_entry", "memo = 'Repayment (cash lost)'", "id = {entry}"),
    ("journal_entry", "occurred_on = '2008-02-16'", "id = {entry}"),
    ("journal_entry", "created_by = 'someone else'", "id = {entry}"),
    ("journal_entry", "loan_id = NULL", "id = {entry}"),
]


@pytest.mark.parametrize("table, change, where", JOURNAL_EDITS)
def test_a_journal_edit_is_named_by_seq(world: World, table: str, change: str,
                                        where: str) -> None:
    ids = _ledger(world)
    s = world.session
    _, entry = _first_repayment(s, ids["paying"])
    seq = _seq(s, entry)
    _tamper(s, f"UPDATE {table} SET {change} WHERE {where.format(entry=entry)}",
            tables=(table,))
    name, detail = _failure(s)
    assert name == "hash chain and balanced entries"
    assert detail == (f"entry {seq} (id {entry}): its content no longer matches its hash "
                      "(edited outside the app)")


def test_a_deleted_entry_breaks_the_link_of_the_next(world: World) -> None:
    ids = _ledger(world)
    s = world.session
    rid, entry = _first_repayment(s, ids["paid_off"])
    seq = _seq(s, entry)
    _tamper(s, f"DELETE FROM repayment WHERE id = {rid}",
            f"DELETE FROM posting WHERE entry_id = {entry}",
            f"DELETE FROM journal_entry WHERE id = {entry}",
            tables=("repayment", "posting", "journal_entry"))
    name, detail = _failure(s)
    assert name == "hash chain and balanced entries"
    assert detail.startswith(f"entry {seq + 1} ") and "link" in detail


def test_an_inserted_entry_is_named(world: World) -> None:
    _ledger(world)
    s = world.session
    seq, last_hash = s.execute(sa.text(
        "SELECT seq, hash FROM journal_entry ORDER BY seq DESC LIMIT 1")).one()
    cash = account_for(s, AccountRole.CASH, fund_id=1).id
    iom = ensure_capital_account(s, fund_id=1, contributor="IOM").id
    s.commit()
    forged = "ab" * 32
    _tamper(s, "INSERT INTO journal_entry (seq, kind, occurred_on, memo, created_by, created_at, "
               f"prev_hash, hash) VALUES ({seq + 1}, 'capital', '2009-01-02', 'gift', 'x', "
               f"'2009-01-02 00:00:00.000000', '{last_hash}', '{forged}')",
            "INSERT INTO posting (entry_id, account_id, currency, amount_minor) SELECT id, "
            f"{cash}, 'KHR', 500 FROM journal_entry WHERE hash = '{forged}'",
            "INSERT INTO posting (entry_id, account_id, currency, amount_minor) SELECT id, "
            f"{iom}, 'KHR', -500 FROM journal_entry WHERE hash = '{forged}'")
    name, detail = _failure(s)
    assert name == "hash chain and balanced entries"
    assert detail.startswith(f"entry {seq + 1} ") and "hash" in detail


def test_a_posting_added_to_an_old_entry_is_named(world: World) -> None:
    # Out of id order, so the scan reads the journal again in seq order.
    ids = _ledger(world)
    s = world.session
    _, entry = _first_repayment(s, ids["paying"])
    seq = _seq(s, entry)
    cash = account_for(s, AccountRole.CASH, fund_id=1).id
    _tamper(s, "INSERT INTO posting (entry_id, account_id, currency, amount_minor) "
               f"VALUES ({entry}, {cash}, 'KHR', 1)")
    assert _failure(s)[1].startswith(f"entry {seq} (id {entry}):")


@pytest.mark.parametrize("change, says", [
    ("amount_minor = 1100", "on loan PAYING (id {paying}) records 1,100 ៛ received"),
    ("paid_on = '2008-02-20'", "on loan PAYING (id {paying}) is dated 2008-02-20 but its entry"),
    ("loan_id = {rescheduled}", "on loan RESCHED (id {rescheduled}): its entry"),
])
def test_a_repayment_changed_is_named(world: World, change: str, says: str) -> None:
    ids = _ledger(world)
    s = world.session
    rid, _ = _first_repayment(s, ids["paying"])
    _tamper(s, f"UPDATE repayment SET {change.format(**ids)} WHERE id = {rid}",
            tables=("repayment",))
    name, detail = _failure(s)
    assert name == "repayment records = their journal entries"
    assert f"repayment {rid} {says.format(**ids)}" in detail


@pytest.mark.parametrize("table, sql, says", [
    ("repayment", "DELETE FROM repayment WHERE id = {first}", "entry {first_seq} (id "
     "{first_entry}) records a repayment on loan PAYING (id {paying}) that has no repayment "
     "record (removed outside the app)"),
    ("repayment_reversal", "DELETE FROM repayment_reversal WHERE repayment_id = {bounced}",
     "reverses the entry of a repayment (id {bounced_entry}) but no reversal record says so"),
    (None, "INSERT INTO repayment (loan_id, paid_on, amount_minor, currency, cash_account_id, "
     "received_by, note, entry_id, created_at) SELECT {paying}, '2008-05-15', 21100, 'KHR', "
     "a.id, 'x', '', e.id, '2008-05-15 00:00:00' FROM journal_entry e, account a WHERE "
     "e.loan_id = {paying} AND e.kind = 'disbursement' AND a.role = 'cash'",
     "is not a repayment entry of its own in the journal"),
])
def test_a_repayment_record_removed_or_invented_is_named(world: World, table: str | None,
                                                         sql: str, says: str) -> None:
    facts = _ledger(world)
    s = world.session
    facts["first"], facts["first_entry"] = _first_repayment(s, facts["paying"])
    facts["first_seq"] = _seq(s, facts["first_entry"])
    facts["bounced_entry"] = _entry_of(s, facts["bounced"])
    _tamper(s, sql.format(**facts), tables=(table,) if table else ())
    name, detail = _failure(s)
    assert name == "repayment records = their journal entries"
    assert says.format(**facts) in detail


@pytest.mark.parametrize("loan", ["paying", "paid_off", "rescheduled"])
def test_a_schedule_changed_is_named_by_loan(world: World, loan: str) -> None:
    ids = _ledger(world)
    s = world.session
    # The last installment of the loan's newest schedule owes 5,000 riel more principal.
    target = s.execute(sa.text(
        "SELECT i.id FROM schedule_installment i JOIN loan_schedule l ON l.id = i.schedule_id "
        "WHERE l.loan_id = :loan ORDER BY l.version DESC, i.number DESC LIMIT 1"),
        {"loan": ids[loan]}).scalar_one()
    principal = "SELECT principal_minor FROM schedule_installment WHERE id = :i"
    before = _one(s, principal, i=target)
    _tamper(s, f"UPDATE schedule_installment SET principal_minor = principal_minor + 5000 "
               f"WHERE id = {target}", tables=("schedule_installment",))
    name, detail = _failure(s)
    assert name == "portfolio = Σ outstanding principal"
    ref = {"paying": "PAYING", "paid_off": "PAIDOFF", "rescheduled": "RESCHED"}[loan]
    assert f"loan {ref} (id {ids[loan]}): the portfolio holds" in detail
    assert _one(s, principal, i=target) == before + 5_000


@pytest.mark.parametrize("change", ["interest_minor = -5",
                                    "penalty_minor = 10, fee_minor = -5"])
def test_a_schedule_that_cannot_be_replayed_is_named(world: World, change: str) -> None:
    ids = _ledger(world)
    s = world.session
    _tamper(s, f"UPDATE schedule_installment SET {change} WHERE schedule_id = "
               f"(SELECT id FROM loan_schedule WHERE loan_id = {ids['paying']}) AND number = 3",
            tables=("schedule_installment",))
    name, detail = _failure(s)
    assert name == "portfolio = Σ outstanding principal"
    assert "loan PAYING" in detail and "cannot be replayed" in detail


@pytest.mark.parametrize("loan, status, says", [
    ("paying", "written_off", "loan PAYING (id {paying}): the portfolio holds 159,325 ៛ for it, "
     "but it was written off"),
    ("lost", "active", "loan LOST (id {lost}): the portfolio holds 0 ៛ for it, but its schedule "
     "and repayments leave 180,900 ៛ owed"),
])
def test_a_loan_status_changed_behind_the_app_is_named(world: World, loan: str, status: str,
                                                      says: str) -> None:
    ids = _ledger(world)
    s = world.session
    _tamper(s, f"UPDATE loan SET status = '{status}' WHERE id = {ids[loan]}")
    name, detail = _failure(s)
    assert name == "portfolio = Σ outstanding principal"
    assert says.format(**ids) in detail
    assert _one(s, "SELECT status FROM loan WHERE id = :i", i=ids[loan]) == status


@pytest.mark.parametrize("sql, table", [
    ("UPDATE loan SET principal_minor = 150000 WHERE ref = 'PAYING'", None),
    ("UPDATE capital_receipt SET amount_minor = amount_minor + 1000000", "capital_receipt")])
def test_a_record_behind_cash_changed_breaks_the_cash_check(world: World, sql: str,
                                                            table: str | None) -> None:
    _ledger(world)
    s = world.session
    _tamper(s, sql, tables=(table,) if table else ())
    report = verify_ledger(s)
    failed = [c for c in report.checks if not c.ok]
    assert [c.name for c in failed] == ["cash = capital + repayments + recoveries − loans − grants"]
    cash, records = failed[0].detail.split("; records say ")
    assert cash != "cash accounts " + records


def test_a_posting_of_no_entry_is_named(world: World) -> None:
    _ledger(world)
    s = world.session
    cash = account_for(s, AccountRole.CASH, fund_id=1).id
    s.commit()
    engine = s.get_bind()
    assert isinstance(engine, sa.Engine)
    insert = ("INSERT INTO posting (entry_id, account_id, currency, amount_minor) "
              f"VALUES (999999, {cash}, 'KHR', 700)")
    if engine.dialect.name == "sqlite":
        raw = sqlite3.connect(str(engine.url.database))  # foreign keys are off by default
        with raw:
            raw.execute(insert)
        raw.close()
    else:
        _tamper(s, "ALTER TABLE posting DROP CONSTRAINT fk_posting_entry_id_journal_entry",
                insert)
    name, detail = _failure(s)
    assert name == "hash chain and balanced entries"
    assert "belongs to entry id 999999, which is not in the journal" in detail


def test_the_seq_ordered_pass_gives_the_same_verdict(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = _ledger(world)
    s = world.session
    fast = verify_ledger(s)
    s.rollback()

    def out_of_order(*_: object) -> object:
        raise ledger.verify_scan.OutOfOrder

    monkeypatch.setattr(ledger.verify_scan, "_by_id", out_of_order)
    slow = verify_ledger(s)
    s.rollback()
    assert slow == fast and slow.ok
    _, entry = _first_repayment(s, ids["paying"])
    _tamper(s, f"UPDATE journal_entry SET memo = 'x' WHERE id = {entry}",
            tables=("journal_entry",))
    assert _failure(s)[1].startswith(f"entry {_seq(s, entry)} ")


# Texts with everything JSON escapes, and more: the scan writes them as json.dumps does.
# (PostgreSQL text cannot hold NUL, so no "\x00".)
ODD_TEXTS = ['quote " backslash \\ slash /', "new\nline\ttab\rreturn\bback\fform",
             "\x01\x1f\x7f\x80 control", "ថវិកា IOM ៛ ១២៣", "emoji 🌾 \u2028 \u2029 \ufeff",
             "'single' and `tick`"]


def test_entries_with_odd_texts_verify(world: World) -> None:
    s = world.session
    cash = account_for(s, AccountRole.CASH, fund_id=1).id
    assert cash is not None
    for n, text in enumerate(ODD_TEXTS):
        donor = ensure_capital_account(s, fund_id=1, contributor=f"D{n} {text}"[:40]).id
        assert donor is not None
        post_entry(s, kind="capital", occurred_on=date(2008, 1, 1), memo=text, by=text,
                   lines=[Line(cash, riel(1_000 + n)), Line(donor, riel(-1_000 - n))],
                   at=datetime(2008, 1, 1, 1, 2, 3, n, tzinfo=UTC))
    s.commit()
    chain = verify_ledger(s).checks[0]
    assert chain.ok, chain.detail
    # And one character changed in one of them is still caught.
    entry = _one(s, "SELECT id FROM journal_entry WHERE memo = :m", m=ODD_TEXTS[-1])
    _tamper(s, "UPDATE journal_entry SET memo = replace(memo, 'tick', 'tock') "
               f"WHERE id = {entry}", tables=("journal_entry",))
    assert _failure(s) == ("hash chain and balanced entries", f"entry {_seq(s, entry)} (id "
                           f"{entry}): its content no longer matches its hash (edited outside "
                           "the app)")


def test_a_timestamp_stored_in_another_form_of_the_same_instant_still_verifies(
        world: World) -> None:
    # The scan reads stored text; anything else goes the way the app reads it.
    _ledger(world)
    s = world.session
    if s.get_bind().dialect.name != "sqlite":
        pytest.skip("only SQLite keeps timestamps as text")
    _tamper(s, "UPDATE journal_entry SET created_at = replace(created_at, ' ', 'T') "
               "WHERE seq = 3", tables=("journal_entry",))
    assert s.execute(sa.text("SELECT created_at FROM journal_entry WHERE seq = 3")
                     ).scalar_one()[10] == "T"
    report: VerifyReport = verify_ledger(s)
    assert report.ok, report.first_failure
