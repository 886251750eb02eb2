"""Append-only in the database itself, and the hash chain that catches edits made around it.

Raw SQL UPDATE and DELETE on every journal and history table is refused by triggers on both
databases. Someone with a database shell can drop a trigger first; `verify_chain` then names the
first entry whose content no longer matches its hash.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import Session

import ledger.chain
from ledger.accounts import AccountRole, account_for, ensure_capital_account, ensure_chart
from ledger.chain import EntryContent, PostingContent, entry_hash, verify_chain
from ledger.db.tables import (
    APPEND_ONLY_TABLES,
    CapitalReceipt,
    Commune,
    District,
    Family,
    GrantPayment,
    Loan,
    LoanEvent,
    LoanProduct,
    LoanSchedule,
    Province,
    Repayment,
    RepaymentReversal,
    ScheduleInstallment,
    Village,
)
from ledger.journal import Line, post_entry, reverse_entry
from ledger.money import Money

D = date(2025, 1, 6)


def riel(n: int) -> Money:
    return Money.parse(n, "KHR")


def _seed(session: Session) -> dict[str, int]:
    """One row in every append-only table, made the way the services will make them."""
    fund = ensure_chart(session, fund_code="RIEL", currency="KHR")
    assert fund.id is not None
    cash = account_for(session, AccountRole.CASH, fund_id=fund.id)
    loans = account_for(session, AccountRole.LOAN_PORTFOLIO, fund_id=fund.id)
    iom = ensure_capital_account(session, fund_id=fund.id, contributor="IOM")
    assert cash.id is not None and loans.id is not None and iom.id is not None
    # No ORM relationships link the tables, so parents are flushed before their children.
    for place in (
        Province(code="17", name_kh="សៀមរាប", name_en="Siemreap"),
        District(code="1701", province_code="17", name_kh="ក", name_en="A"),
        Commune(code="170101", district_code="1701", name_kh="ខ", name_en="B"),
    ):
        session.add(place)
        session.flush()
    village = Village(code="17010101", commune_code="170101", name_kh="គ", name_en="C")
    session.add(village)
    session.flush()
    assert village.id is not None
    family = Family(ref="F-1", head_name="សុខ ចាន់", sex="F", household_size=5, village_id=village.id,
                    registered_on=D, created_by="dara")  # fmt: skip
    product = LoanProduct(code="STD", name="Standard", currency="KHR", min_principal_minor=100_000,
                          max_principal_minor=200_000, rate=Decimal("1.5"), rate_period="month",
                          method="declining", amortization="equal-installments",
                          min_repayments=6, max_repayments=12)  # fmt: skip
    session.add_all([family, product])
    session.flush()
    assert family.id is not None and product.id is not None
    loan = Loan(ref="L-1", family_id=family.id, product_id=product.id, fund_id=fund.id,
                principal_minor=150_000, currency="KHR", rate=Decimal("1.5"), rate_period="month",
                method="declining", amortization="equal-installments", repayments=6,
                applied_on=D, applied_by="dara")  # fmt: skip
    session.add(loan)
    session.flush()
    assert loan.id is not None
    post_entry(session, kind="capital", occurred_on=D, memo="IOM contribution", by="dara",
               lines=[Line(cash.id, riel(1_000_000)), Line(iom.id, riel(-1_000_000))])  # fmt: skip
    paid = post_entry(session, kind="repayment", occurred_on=D, memo="first repayment", by="dara",
                      lines=[Line(cash.id, riel(25_000)),
                             Line(loans.id, riel(-25_000), loan.id, "principal")],
                      loan_id=loan.id)  # fmt: skip
    assert paid.id is not None
    undo = reverse_entry(session, entry_id=paid.id, memo="bounced", by="dara", occurred_on=D)
    schedule = LoanSchedule(loan_id=loan.id, version=1, reason="disbursement", created_on=D,
                            created_by="dara")  # fmt: skip
    session.add(schedule)
    session.flush()
    assert schedule.id is not None
    repayment = Repayment(loan_id=loan.id, paid_on=D, amount_minor=25_000, currency="KHR",
                          cash_account_id=cash.id, received_by="dara",
                          entry_id=paid.id)  # fmt: skip
    session.add_all([
        repayment,
        LoanEvent(loan_id=loan.id, event="applied", status="applied", occurred_on=D,
                  recorded_by="dara"),
        ScheduleInstallment(schedule_id=schedule.id, number=1, due_date=date(2025, 2, 6),
                            principal_minor=24_000, interest_minor=2_250),
    ])  # fmt: skip
    session.flush()
    assert repayment.id is not None and undo.id is not None
    session.add(RepaymentReversal(repayment_id=repayment.id, entry_id=undo.id, reason="bounced",
                                  reversed_by="dara"))  # fmt: skip
    grant = post_entry(session, kind="grant", occurred_on=D, memo="bicycle", by="dara",
                       lines=[Line(loans.id, riel(100_000)), Line(cash.id, riel(-100_000))])
    assert grant.id is not None
    session.add_all([
        CapitalReceipt(ref="C-1", entry_id=paid.id - 1, fund_id=fund.id, contributor="IOM",
                       received_on=D, amount_minor=1_000_000, currency="KHR"),
        GrantPayment(ref="G-1", entry_id=grant.id, fund_id=fund.id, purpose="bicycle",
                     family_id=family.id, paid_on=D, amount_minor=100_000, currency="KHR"),
    ])  # fmt: skip
    session.commit()
    return {"paid_entry": paid.id, "loan": loan.id}


# The journal and loan-history tables, seeded above with real rows; tables added by later
# revisions are covered by `test_every_append_only_table_has_its_triggers` and by their own tests.
SEEDED_TABLES = (
    "journal_entry", "posting", "repayment", "repayment_reversal", "loan_event", "loan_schedule",
    "schedule_installment", "capital_receipt", "grant_payment",
)


def test_every_append_only_table_has_its_triggers(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            names = set(conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars())
            expected = {f"{t}_no_{a}" for t in APPEND_ONLY_TABLES for a in ("update", "delete")}
        else:
            names = set(conn.exec_driver_sql(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal").scalars())
            expected = {f"{t}_{k}" for t in APPEND_ONLY_TABLES
                        for k in ("append_only", "no_truncate")}
    assert expected <= names, sorted(expected - names)


@pytest.mark.parametrize("table", SEEDED_TABLES)
def test_update_and_delete_are_refused_by_the_database(
    engine: sa.Engine, table: str
) -> None:
    with Session(engine) as session:
        _seed(session)
    for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
        with engine.connect() as conn:
            with pytest.raises(sa.exc.DBAPIError) as caught:
                conn.exec_driver_sql(statement)
            assert f"{table} is append-only" in str(caught.value)
            conn.rollback()
    with engine.connect() as conn:
        assert conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() == (
            4 if table == "journal_entry" else 8 if table == "posting" else 1
        )


@pytest.mark.postgres
def test_truncate_is_refused_on_postgresql(pg_url: str) -> None:
    from ledger.db import make_engine

    eng = make_engine(pg_url)
    try:
        with eng.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="append-only"):
            conn.exec_driver_sql("TRUNCATE posting")
    finally:
        eng.dispose()


def test_loan_status_stays_updatable(engine: sa.Engine) -> None:
    with Session(engine) as session:
        ids = _seed(session)
        session.execute(
            sa.text("UPDATE loan SET status = 'active' WHERE id = :i"), {"i": ids["loan"]}
        )
        session.commit()
        loan = session.get(Loan, ids["loan"])
        assert loan is not None and loan.status == "active"


def _drop_trigger(conn: sa.Connection, table: str) -> None:
    """What someone with a database shell could do."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"DROP TRIGGER {table}_no_update")
    else:
        conn.exec_driver_sql(f"DROP TRIGGER {table}_append_only ON {table}")


def _post_many(session: Session, count: int) -> None:
    fund = ensure_chart(session, fund_code="RIEL", currency="KHR")
    assert fund.id is not None
    cash = account_for(session, AccountRole.CASH, fund_id=fund.id).id
    iom = ensure_capital_account(session, fund_id=fund.id, contributor="IOM").id
    prov = ensure_capital_account(session, fund_id=fund.id, contributor="Province").id
    assert cash is not None and iom is not None and prov is not None
    for n in range(1, count + 1):
        # Odd entries have three postings, even ones two: entries of uneven size.
        if n % 2:
            lines = [Line(cash, riel(1_000 * n)), Line(iom, riel(-600 * n)),
                     Line(prov, riel(-400 * n))]  # fmt: skip
        else:
            lines = [Line(cash, riel(1_000 * n)), Line(iom, riel(-1_000 * n))]
        post_entry(session, kind="capital", occurred_on=D, memo=f"gift {n}", by="dara",
                   lines=lines)  # fmt: skip
    session.commit()


def test_an_untampered_chain_verifies_across_stream_batches(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger.chain, "STREAM_BATCH", 3)  # entries straddle fetch boundaries
    _post_many(session, 12)
    report = verify_chain(session)
    assert report.ok, report.broken
    assert (report.entries, report.last_seq) == (12, 12)
    last_hash = session.execute(sa.text("SELECT hash FROM journal_entry WHERE seq = 12")).scalar()
    assert report.last_hash == last_hash


def test_an_empty_journal_verifies(session: Session) -> None:
    report = verify_chain(session)
    assert report.ok and report.entries == 0 and report.last_seq is None


def test_a_posting_amount_edited_behind_the_apps_back_is_named(
    session: Session, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger.chain, "STREAM_BATCH", 4)
    _post_many(session, 10)
    with engine.begin() as conn:
        _drop_trigger(conn, "posting")
        conn.exec_driver_sql(
            "UPDATE posting SET amount_minor = amount_minor + 1 WHERE id = "
            "(SELECT min(p.id) FROM posting p JOIN journal_entry e ON e.id = p.entry_id "
            "WHERE e.seq = 7)"
        )
    session.expire_all()
    report = verify_chain(session)
    assert report.broken is not None
    assert report.broken.seq == 7 and "hash" in report.broken.reason
    assert report.entries == 6


def test_a_memo_edited_behind_the_apps_back_is_named(session: Session, engine: sa.Engine) -> None:
    _post_many(session, 5)
    with engine.begin() as conn:
        _drop_trigger(conn, "journal_entry")
        conn.exec_driver_sql("UPDATE journal_entry SET memo = 'gift 3 (cash lost)' WHERE seq = 3")
    report = verify_chain(session)
    assert report.broken is not None and report.broken.seq == 3


def test_a_deleted_entry_breaks_the_link_of_the_next(session: Session, engine: sa.Engine) -> None:
    _post_many(session, 5)
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER posting_no_delete")
            conn.exec_driver_sql("DROP TRIGGER journal_entry_no_delete")
        else:
            _drop_trigger(conn, "posting")
            _drop_trigger(conn, "journal_entry")
        gone = "(SELECT id FROM journal_entry WHERE seq = 2)"
        conn.exec_driver_sql(f"DELETE FROM posting WHERE entry_id = {gone}")
        conn.exec_driver_sql(f"DELETE FROM journal_entry WHERE id = {gone}")
    report = verify_chain(session)
    assert report.broken is not None
    assert report.broken.seq == 3 and "link" in report.broken.reason


def _rehash(conn: sa.Connection, seq: int) -> None:
    """Store the hash the entry at `seq` now has, as a forger would after editing it (an
    entry of no loan that reverses nothing)."""
    entry = conn.exec_driver_sql(
        "SELECT id, seq, kind, occurred_on, memo, created_by, created_at, prev_hash "
        f"FROM journal_entry WHERE seq = {seq}"
    ).one()
    postings = conn.exec_driver_sql(
        "SELECT a.code, p.currency, p.amount_minor, p.loan_id, p.component FROM posting p "
        f"JOIN account a ON a.id = p.account_id WHERE p.entry_id = {entry[0]}"
    ).all()
    created_at = entry[6]
    if isinstance(created_at, str):  # raw SQLite text, stored as UTC
        created_at = datetime.fromisoformat(created_at).replace(tzinfo=UTC)
    elif created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=UTC)
    occurred = entry[3] if isinstance(entry[3], date) else date.fromisoformat(entry[3])
    content = EntryContent(entry[1], entry[2], occurred, entry[4], entry[5], created_at,
                           None, None, tuple(PostingContent(*p) for p in postings))  # fmt: skip
    conn.exec_driver_sql(
        f"UPDATE journal_entry SET hash = '{entry_hash(entry[7], content)}' WHERE seq = {seq}"
    )


def test_a_rehashed_but_unbalanced_entry_is_named(session: Session, engine: sa.Engine) -> None:
    # A forger who also recomputes the last hash still cannot make postings that do not balance.
    _post_many(session, 3)
    with engine.begin() as conn:
        _drop_trigger(conn, "posting")
        _drop_trigger(conn, "journal_entry")
        conn.exec_driver_sql(
            "UPDATE posting SET amount_minor = amount_minor * 2 WHERE id = "
            "(SELECT min(p.id) FROM posting p JOIN journal_entry e ON e.id = p.entry_id "
            "WHERE e.seq = 3)"
        )
        _rehash(conn, 3)
    report = verify_chain(session)
    assert report.broken is not None
    assert report.broken.seq == 3 and "balance" in report.broken.reason


def test_a_rehashed_posting_moved_to_a_loan_its_entry_is_not_of_is_named(
    session: Session, engine: sa.Engine
) -> None:
    # Bulk posting reads a loan's sums by the loan's entries, so a posting to a loan in an
    # entry of no loan (or another) would be left out of them: verify names it.
    loan = _seed(session)["loan"]
    with engine.begin() as conn:
        _drop_trigger(conn, "posting")
        _drop_trigger(conn, "journal_entry")
        conn.exec_driver_sql(
            f"UPDATE posting SET loan_id = {loan} WHERE id = (SELECT min(p.id) FROM posting p "
            "JOIN journal_entry e ON e.id = p.entry_id WHERE e.seq = 1)"
        )
        _rehash(conn, 1)
    report = verify_chain(session)
    assert report.broken is not None and report.broken.seq == 1, report.broken
    assert report.broken.reason == (
        f"its posting 1 is for loan id {loan}, but the entry is of no loan"
    )


def test_entry_hash_is_sha256_of_the_documented_canonical_form() -> None:
    import hashlib
    import json

    content = EntryContent(
        seq=1, kind="capital", occurred_on=date(2025, 1, 6), memo="ថវិកា IOM", created_by="dara",
        created_at=datetime(2025, 1, 6, 3, 4, 5, 6, tzinfo=UTC), loan_id=None, reverses_seq=None,
        postings=(PostingContent("RIEL.cash", "KHR", 500, None, None),
                  PostingContent("RIEL.capital.IOM", "KHR", -500, None, None)),
    )  # fmt: skip
    # Written out by hand from the module docstring: sorted keys, compact, UTF-8, postings sorted.
    doc = (
        '{"created_at":"2025-01-06T03:04:05.000006+00:00","created_by":"dara","kind":"capital",'
        '"loan_id":null,"memo":"ថវិកា IOM","occurred_on":"2025-01-06",'
        '"postings":[["RIEL.capital.IOM","KHR",-500,null,null],["RIEL.cash","KHR",500,null,null]],'
        '"reverses_seq":null,"seq":1}'
    )
    assert json.loads(doc)  # well-formed
    expected = hashlib.sha256(("0" * 64 + "\n" + doc).encode("utf-8")).hexdigest()
    assert entry_hash("0" * 64, content) == expected
    assert entry_hash("1" * 64, content) != expected
