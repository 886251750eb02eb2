"""The journal on both databases: balanced entries post, anything else is refused before a row is
written, reversals negate and link once, balances come from SQL, appends are serialised."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session

from ledger.accounts import (
    AccountNotFound,
    AccountRole,
    account_for,
    ensure_capital_account,
    ensure_cash_box,
    ensure_chart,
)
from ledger.chain import GENESIS_HASH, verify_chain
from ledger.journal import (
    JournalError,
    Line,
    UnbalancedEntry,
    balance,
    balances_by_account,
    check_balanced,
    lock_chain,
    post_entry,
    reverse_entry,
)
from ledger.money import Money

KHR = "KHR"
D1, D2, D3 = date(2025, 1, 6), date(2025, 2, 3), date(2025, 3, 3)


def riel(n: int) -> Money:
    return Money.parse(n, KHR)


def usd(text: str) -> Money:
    return Money.parse(text, "USD")


def _chart(session: Session) -> dict[str, int]:
    fund = ensure_chart(session, fund_code="RIEL", currency=KHR, fund_name="Riel loan fund")
    assert fund.id is not None
    ids = {
        role.value: account_for(session, role, fund_id=fund.id).id
        for role in (AccountRole.CASH, AccountRole.LOAN_PORTFOLIO, AccountRole.INTEREST_INCOME)
    }
    ids["iom"] = ensure_capital_account(session, fund_id=fund.id, contributor="IOM").id
    ids["fund"] = fund.id
    return {k: int(v) for k, v in ids.items() if v is not None}


def _count(session: Session, table: str) -> int:
    return int(session.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def _capital(session: Session, acc: dict[str, int], amount: int, on: date = D1) -> int:
    entry = post_entry(
        session,
        kind="capital",
        occurred_on=on,
        memo="IOM contribution",
        by="sokha",
        lines=[Line(acc["cash"], riel(amount)), Line(acc["iom"], riel(-amount))],
    )
    assert entry.id is not None
    return entry.id


def test_balanced_entry_posts_and_balances_come_from_postings(session: Session) -> None:
    acc = _chart(session)
    _capital(session, acc, 1_000_000)
    post_entry(
        session,
        kind="disbursement",
        occurred_on=D2,
        memo="loan L-1 disbursed",
        by="sokha",
        lines=[Line(acc["loan_portfolio"], riel(150_000), loan_id=None, component="principal"),
               Line(acc["cash"], riel(-150_000))],
    )  # fmt: skip
    session.commit()
    assert balance(session, acc["cash"]) == riel(850_000)
    assert balance(session, acc["loan_portfolio"]) == riel(150_000)
    assert balance(session, acc["iom"]) == riel(-1_000_000)
    assert balance(session, acc["cash"], as_of=D1) == riel(1_000_000)
    assert balance(session, acc["interest_income"]) == riel(0)
    assert balances_by_account(session) == {
        acc["cash"]: riel(850_000),
        acc["loan_portfolio"]: riel(150_000),
        acc["iom"]: riel(-1_000_000),
    }
    assert balances_by_account(session, as_of=D1) == {
        acc["cash"]: riel(1_000_000),
        acc["iom"]: riel(-1_000_000),
    }
    seqs = session.execute(sa.text("SELECT seq, prev_hash FROM journal_entry ORDER BY seq")).all()
    assert [s[0] for s in seqs] == [1, 2]
    assert seqs[0][1] == GENESIS_HASH
    assert verify_chain(session).ok


def test_unbalanced_entry_is_refused_and_nothing_is_written(session: Session) -> None:
    acc = _chart(session)
    session.commit()
    with pytest.raises(UnbalancedEntry) as caught:
        post_entry(
            session,
            kind="capital",
            occurred_on=D1,
            memo="typo",
            by="sokha",
            lines=[Line(acc["cash"], riel(100_000)), Line(acc["iom"], riel(-99_900))],
        )
    assert caught.value.currency == "KHR"
    assert caught.value.difference == riel(100)
    assert "KHR" in str(caught.value) and "100" in str(caught.value)
    session.commit()
    assert _count(session, "journal_entry") == 0
    assert _count(session, "posting") == 0


def test_multi_currency_entries_balance_per_currency(session: Session) -> None:
    acc = _chart(session)
    usd_fund = ensure_chart(session, fund_code="USD", currency="USD")
    assert usd_fund.id is not None
    usd_cash = account_for(session, AccountRole.CASH, fund_id=usd_fund.id).id
    usd_cap = ensure_capital_account(session, fund_id=usd_fund.id, contributor="IOM").id
    assert usd_cash is not None and usd_cap is not None
    # Sums to zero across currencies only if one pretended riel and dollars were the same.
    with pytest.raises(UnbalancedEntry) as caught:
        check_balanced(
            [
                Line(acc["cash"], riel(400)),
                Line(acc["iom"], riel(-400)),
                Line(usd_cash, usd("5.00")),
                Line(usd_cap, usd("-4.00")),
            ]
        )
    assert caught.value.currency == "USD"
    assert caught.value.difference == usd("1.00")
    entry = post_entry(
        session,
        kind="capital",
        occurred_on=D1,
        memo="two contributions",
        by="dara",
        lines=[
            Line(acc["cash"], riel(400_000)),
            Line(acc["iom"], riel(-400_000)),
            Line(usd_cash, usd("100.25")),
            Line(usd_cap, usd("-100.25")),
        ],
    )
    session.commit()
    assert balance(session, usd_cash) == usd("100.25")
    minor = session.execute(
        sa.text("SELECT amount_minor FROM posting WHERE entry_id = :e AND account_id = :a"),
        {"e": entry.id, "a": usd_cash},
    ).scalar_one()
    assert minor == 10025  # cents, as an integer


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "at least two"),
        ([("cash", 5)], "at least two"),
        ([("cash", 5), ("iom", 0), ("iom", -5)], "zero"),
    ],
)
def test_malformed_entries_are_refused(
    session: Session, lines: list[tuple[str, int]], message: str
) -> None:
    acc = _chart(session)
    with pytest.raises(JournalError, match=message):
        post_entry(
            session,
            kind="capital",
            occurred_on=D1,
            memo="m",
            by="b",
            lines=[Line(acc[name], riel(n)) for name, n in lines],
        )
    assert _count(session, "journal_entry") == 0


def test_unknown_account_wrong_currency_and_missing_memo_are_refused(session: Session) -> None:
    acc = _chart(session)
    good = [Line(acc["cash"], riel(5)), Line(acc["iom"], riel(-5))]
    with pytest.raises(JournalError, match="no account"):
        post_entry(session, kind="capital", occurred_on=D1, memo="m", by="b",
                   lines=[Line(999_999, riel(5)), Line(acc["iom"], riel(-5))])  # fmt: skip
    with pytest.raises(JournalError, match="keeps KHR"):
        post_entry(session, kind="capital", occurred_on=D1, memo="m", by="b",
                   lines=[Line(acc["cash"], usd("5")), Line(acc["iom"], usd("-5"))])  # fmt: skip
    with pytest.raises(JournalError, match="memo"):
        post_entry(session, kind="capital", occurred_on=D1, memo="  ", by="b", lines=good)
    with pytest.raises(JournalError, match="line 1: for loan id 7 in an entry of no loan"):
        post_entry(session, kind="capital", occurred_on=D1, memo="m", by="b",
                   lines=[Line(acc["cash"], riel(5), loan_id=7), Line(acc["iom"], riel(-5))])
    with pytest.raises(JournalError, match="line 2: for loan id 7 in an entry of loan id 8"):
        post_entry(session, kind="capital", occurred_on=D1, memo="m", by="b", loan_id=8,
                   lines=[Line(acc["cash"], riel(5), loan_id=8),
                          Line(acc["iom"], riel(-5), loan_id=7)])
    with pytest.raises(JournalError, match="component"):
        check_balanced([Line(acc["cash"], riel(5), component="tip"), Line(acc["iom"], riel(-5))])
    assert _count(session, "journal_entry") == 0


def test_post_entry_does_not_commit(session: Session) -> None:
    acc = _chart(session)
    session.commit()
    _capital(session, acc, 500)
    session.rollback()
    assert _count(session, "journal_entry") == 0


def test_reversal_negates_links_and_restores_balances(session: Session) -> None:
    acc = _chart(session)
    original = _capital(session, acc, 250_000)
    rev = reverse_entry(session, entry_id=original, memo="entered twice", by="dara", occurred_on=D2)
    session.commit()
    assert rev.reverses_id == original and rev.kind == "reversal"
    rows = session.execute(
        sa.text(
            "SELECT p.entry_id, p.account_id, p.amount_minor FROM posting p "
            "ORDER BY p.entry_id, p.account_id"
        )
    ).all()
    first = {(r[1], r[2]) for r in rows if r[0] == original}
    second = {(r[1], -r[2]) for r in rows if r[0] == rev.id}
    assert first == second and len(first) == 2
    assert balance(session, acc["cash"]) == riel(0)
    assert balance(session, acc["cash"], as_of=D1) == riel(250_000)
    assert verify_chain(session).ok


def test_an_entry_is_reversed_once_and_a_reversal_never(session: Session) -> None:
    acc = _chart(session)
    original = _capital(session, acc, 10_000)
    rev = reverse_entry(session, entry_id=original, memo="wrong", by="dara", occurred_on=D2)
    assert rev.id is not None
    with pytest.raises(JournalError, match="already reversed"):
        reverse_entry(session, entry_id=original, memo="again", by="dara", occurred_on=D2)
    with pytest.raises(JournalError, match="itself a reversal"):
        reverse_entry(session, entry_id=rev.id, memo="undo", by="dara", occurred_on=D2)
    session.commit()
    # The database backs the rule: a second entry claiming to reverse the same one fails.
    with pytest.raises(sa.exc.IntegrityError):
        post_entry(session, kind="reversal", occurred_on=D3, memo="sneaky", by="x",
                   lines=[Line(acc["cash"], riel(-10_000)), Line(acc["iom"], riel(10_000))],
                   reverses_id=original)  # fmt: skip
    session.rollback()
    assert _count(session, "journal_entry") == 2


def test_chart_is_idempotent_and_finds_accounts_by_role(session: Session) -> None:
    acc = _chart(session)
    before = _count(session, "account")
    again = _chart(session)
    assert again == acc and _count(session, "account") == before
    box = ensure_cash_box(session, fund_id=acc["fund"], name="Phum Prasat", holder="Srey Mom")
    same = ensure_cash_box(session, fund_id=acc["fund"], name="Phum Prasat", holder="x")
    assert same.id == box.id
    box_acc = account_for(session, "cash_box", fund_id=acc["fund"], cash_box_id=box.id)
    assert box_acc.kind == "asset" and box_acc.cash_box_id == box.id
    assert account_for(session, AccountRole.FUND_CAPITAL, fund_id=acc["fund"],
                       contributor="iom").id == acc["iom"]  # fmt: skip
    province = ensure_capital_account(session, fund_id=acc["fund"], contributor="Province")
    assert province.id != acc["iom"] and province.kind == "equity"
    kinds = {r[0]: r[1] for r in session.execute(sa.text("SELECT role, kind FROM account"))}
    assert kinds["grants_expense"] == "expense" and kinds["loan_loss_expense"] == "expense"
    assert kinds["recoveries_income"] == "income" and kinds["loan_portfolio"] == "asset"
    with pytest.raises(AccountNotFound):
        account_for(session, AccountRole.CASH, fund_id=acc["fund"] + 100)


@pytest.mark.postgres
def test_postgresql_chain_appends_wait_for_the_advisory_lock(pg_url: str) -> None:
    from ledger.db import make_engine

    eng = make_engine(pg_url)
    try:
        with Session(eng) as a, Session(eng) as b:
            acc = _chart(a)
            a.commit()
            _capital(a, acc, 1_000)  # holds the chain lock until `a` ends
            b.execute(sa.text("SET lock_timeout = '200ms'"))
            with pytest.raises(sa.exc.OperationalError, match="lock timeout"):
                lock_chain(b)
            b.rollback()
            a.commit()
            lock_chain(b)  # free again once the first transaction committed
            b.rollback()
    finally:
        eng.dispose()


def test_concurrent_writers_keep_one_linear_chain(engine: sa.Engine) -> None:
    with Session(engine) as s:
        acc = _chart(s)
        s.commit()
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(5):
                with Session(engine) as s:
                    _capital(s, acc, 1_000 * (n + 1) + i)
                    s.commit()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Session(engine) as s:
        report = verify_chain(s)
        assert report.ok and report.entries == 15
        assert report.last_seq == 15


@given(st.lists(st.integers(min_value=-10**12, max_value=10**12), min_size=2, max_size=8))
def test_check_balanced_accepts_exactly_the_lines_that_sum_to_zero(amounts: list[int]) -> None:
    lines = [Line(i + 1, riel(a)) for i, a in enumerate(amounts) if a != 0]
    total = sum(amounts)
    if len(lines) < 2:
        with pytest.raises(JournalError):
            check_balanced(lines)
    elif total == 0:
        check_balanced(lines)
    else:
        with pytest.raises(UnbalancedEntry) as caught:
            check_balanced(lines)
        assert caught.value.difference.amount == Decimal(total)
