"""The dashboard shows the portfolio report's figures: the same portfolio, PAR30, on-time and
cumulative repayment rates as `fsf report portfolio`, the fund's cash as `fsf report fund`,
and lists in "Needs attention" exactly the loans PAR counts, on a ledger with a late loan, a
renegotiated one, one paid on time and one waiting for approval."""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session
from typer.testing import CliRunner

from ledger import reports as rp
from ledger.actor import SYSTEM
from ledger.db.tables import core_table
from ledger.money import Money
from ledger.services.driver import day
from ledger.services.loans import apply_for_loan
from ledger.services.repayments import record_repayment
from ledger.services.reschedule import reschedule_loan
from ledger.users import create_first_admin
from tests.test_tui_world import TODAY, app_on, scalar, screen_text, settle, small_ledger, sync
from tui.cli import build_app
from tui.lowered import NICE
from tui.screens.data import dashboard as data
from tui.screens.data.overview import villages as village_lines

PASSWORD = "correct horse battery staple"


def _installments(session: Session, loan_id: int, version: int = 1) -> list[tuple[date, int]]:
    """Due dates and amounts of one of the loan's schedules, as the ledger holds them."""
    return [(d if isinstance(d, date) else date.fromisoformat(d), int(a)) for d, a in
            session.execute(sa.text(
                "SELECT si.due_date, si.principal_minor + si.interest_minor + si.fee_minor "
                "FROM schedule_installment si JOIN loan_schedule ls ON ls.id = si.schedule_id "
                "WHERE ls.loan_id = :l AND ls.version = :v ORDER BY si.number"),
                {"l": loan_id, "v": version})]


def _pay_on_time(session: Session, loan_id: int, version: int = 1, until: date = TODAY,
                 count: int = 99) -> None:
    """Pay the schedule's installments due by `until` (the first `count`) on their due dates."""
    for due, amount in [x for x in _installments(session, loan_id, version)
                        if x[0] <= until][:count]:
        record_repayment(session, actor=SYSTEM, loan_id=loan_id, today=TODAY,
                         amount=Money.from_minor(amount, "KHR"), paid_on=due)


@pytest.fixture
def book(ledger_url: str) -> Iterator[tuple[sa.Engine, dict[str, int]]]:
    """F001 paid five installments on their due dates, then nothing (late since May 14);
    F002 renegotiated in April and paid on time since; F003 paid every installment on its due
    date, June's included; F004 applied and waits for approval."""
    with small_ledger(ledger_url, families=4) as (engine, world):
        with Session(engine, expire_on_commit=False) as session:
            world.session = session
            late = world.loan(world.families[0], 200_000, on=date(2008, 11, 14), ref="L-LATE")
            _pay_on_time(session, late, count=5)
            reneg = world.loan(world.families[1], 100_000, on=date(2009, 3, 10), ref="L-RENEG")
            reschedule_loan(session, actor=SYSTEM, loan_id=reneg, on=date(2009, 4, 1),
                            today=TODAY, repayments=12, reason="harvest lost")
            _pay_on_time(session, reneg, version=2)
            good = world.loan(world.families[2], 150_000, on=date(2009, 2, 16), ref="L-GOOD")
            _pay_on_time(session, good)
            apply_for_loan(session, actor=SYSTEM, ref="L-WAIT", family_id=world.families[3],
                           product_code="FSF", fund_code="RIEL",
                           principal=Money.parse(120_000, "KHR"), repayments=10,
                           applied_on=date(2009, 6, 20), today=TODAY)
            create_first_admin(session, name="admin", password=PASSWORD)
            session.commit()
            ids = {"late": late, "reneg": reneg, "good": good}
        yield engine, ids


def test_cash_and_village_sums_leave_out_what_came_after_the_day(
        book: tuple[sa.Engine, dict[str, int]]) -> None:
    """The fund's cash (the dashboard's and `fsf report fund`'s) and each village's portfolio,
    as of days with entries after them, are the journal's sums up to the day (the sums leave
    the later entries out by their ids)."""
    engine, _ = book
    post, acct, je = (core_table(t) for t in ("posting", "account", "journal_entry"))
    fam, loan = core_table("family"), core_table("loan")
    with Session(engine) as session:
        days = sorted({day(d) for d in session.execute(
            sa.select(je.c.occurred_on).distinct()).scalars()})
        assert len(days) > 5
        for as_of in (days[0], days[len(days) // 2], days[-2], TODAY):
            cash = session.execute(
                sa.select(sa.func.sum(post.c.amount_minor))
                .join(je, je.c.id == post.c.entry_id).join(acct, acct.c.id == post.c.account_id)
                .where(acct.c.role.in_(("cash", "cash_box")), je.c.occurred_on <= as_of)
            ).scalar_one()
            position = rp.fund_position(session, actor=SYSTEM, as_of=as_of)
            assert data.fund_cash(session, SYSTEM, as_of) == position.cash
            assert position.cash.minor == int(cash or 0), as_of
            journal = dict(session.execute(
                sa.select(fam.c.village_id, sa.func.sum(post.c.amount_minor))
                .join(je, je.c.id == post.c.entry_id).join(acct, acct.c.id == post.c.account_id)
                .join(loan, loan.c.id == post.c.loan_id).join(fam, fam.c.id == loan.c.family_id)
                .where(acct.c.role == "loan_portfolio", je.c.occurred_on <= as_of)
                .group_by(fam.c.village_id)).all())
            shown = {line.id: line.outstanding.minor
                     for line in village_lines(session, as_of, actor=SYSTEM)}
            assert shown == {v: int(journal.get(v, 0)) for v in shown}, as_of
            assert any(shown.values()) or as_of == days[0]

def test_the_figures_are_the_reports(book: tuple[sa.Engine, dict[str, int]]) -> None:
    engine, ids = book
    with Session(engine) as session:
        report = rp.portfolio_quality(session, actor=SYSTEM, as_of=TODAY)
        shown = data.portfolio_figures(session, SYSTEM, TODAY)
        assert shown.portfolio == report.gross_portfolio
        assert shown.active_loans == report.active_loans == 3
        par30 = next(p for p in report.par if p.threshold == 30)
        assert (shown.par30, shown.par30_loans) == (par30.value, par30.loans)
        assert shown.paid_on_time == report.paid_on_time
        assert shown.due_in_period == report.due_in_period
        assert report.paid_on_time.minor > 0  # F003 paid June's installment on its day
        assert data.fund_cash(session, SYSTEM, TODAY) == \
            rp.fund_position(session, actor=SYSTEM, as_of=TODAY).cash
        risky = data.at_risk(session, SYSTEM, TODAY)
        par1 = next(p for p in report.par if p.threshold == 1)
        assert risky.total == par1.loans == 2
        assert [a.target_id for a in risky.loans] == [ids["late"], ids["reneg"]]
        status = rp.loan_status(session, actor=SYSTEM, loan_id=ids["late"], as_of=TODAY)
        assert f"{status.overdue} overdue, {status.days_overdue} days" in risky.loans[0].why
        assert status.days_overdue == (TODAY - date(2009, 5, 14)).days
        assert "renegotiated" in risky.loans[1].why
        waiting = data.waiting(session, SYSTEM)
        assert (waiting.loans_total, waiting.approvals) == (1, 1)
        assert "L-WAIT awaiting approval" in waiting.loans[0].why
    # What falls due in June on the three open loans, from the schedules the ledger holds.
    june = scalar(engine, (
        "SELECT SUM(si.principal_minor + si.interest_minor + si.fee_minor) "
        "FROM schedule_installment si JOIN loan_schedule ls ON ls.id = si.schedule_id "
        "WHERE ls.version = (SELECT MAX(version) FROM loan_schedule x "
        "WHERE x.loan_id = ls.loan_id) AND si.due_date BETWEEN '2009-06-01' AND '2009-06-30'"))
    with Session(engine) as session:
        assert data.due_this_month(session, SYSTEM, TODAY).minor == int(str(june))


def _cli(url: str, *args: str) -> str:
    result = CliRunner().invoke(build_app(), ["--db", url, "--user", "admin", *args],
                                env={"FSF_TODAY": TODAY.isoformat(), "FSF_PASSWORD": PASSWORD})
    assert result.exit_code == 0, result.stderr
    return result.stdout


def _find(pattern: str, text: str) -> tuple[str, ...]:
    found = re.search(pattern, text)
    assert found is not None, f"{pattern!r} not in:\n{text}"
    return found.groups()


@sync
async def test_the_dashboard_shows_what_the_reports_print(
        book: tuple[sa.Engine, dict[str, int]]) -> None:
    engine, _ = book
    url = engine.url.render_as_string(hide_password=False)
    portfolio = _cli(url, "report", "portfolio", "--as-of", TODAY.isoformat())
    fund = _cli(url, "report", "fund", "--as-of", TODAY.isoformat())
    gross, loans = _find(r"Gross loan portfolio ([\d,]+ ៛) in (\d+) loans", portfolio)
    par_n, par_v, par_r = _find(r"PAR30\s+(\d+)\s+([\d,]+ ៛)\s+([\d.]+ %)", portfolio)
    on_r, on_paid, on_due = _find(
        r"On-time repayment rate\s+([\d.]+ %)\s+\(([\d,]+ ៛) paid on time of ([\d,]+ ៛)",
        portfolio)
    (cum_r,) = _find(r"Cumulative repayment\s+([\d.]+ %)", portfolio)
    (cash,) = _find(r"\nCash\s+([\d,]+ ៛)", fund)
    app = app_on(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        shown = screen_text(app)
    assert "computing…" not in shown
    assert _find(r"Portfolio\s+([\d,]+ ៛)", shown) == (gross,)
    assert _find(r"Active loans\s+(\d+)", shown) == (loans,)
    assert _find(r"PAR30\s+([\d,]+ ៛)", shown) == (par_v,)
    assert _find(r"(\d+) loans\s+([\d.]+ %)", shown) == (par_n, par_r)
    assert _find(r"On time, Jun\s+([\d.]+ %)", shown) == (on_r,)
    assert _find(r"([\d,]+ ៛) of ([\d,]+ ៛)", shown) == (on_paid, on_due)
    assert _find(r"Repaid to date\s+([\d.]+ %)", shown) == (cum_r,)
    assert _find(r"Fund cash\s+([\d,]+ ៛)", shown) == (cash,)
    assert on_r != "0.00 %" and par_r != "0.00 %"
    # Needs attention: the approval waiting, the loan waiting, and both loans PAR counts.
    assert "1 waiting for approval" in shown and "L-WAIT awaiting approval" in shown
    assert "L-LATE:" in shown and "L-RENEG: renegotiated, counted in PAR" in shown
    assert "L-GOOD" not in shown and "Nothing needs attention" not in shown


@sync
async def test_the_portfolio_figures_are_read_beside_the_other_parts(
        book: tuple[sa.Engine, dict[str, int]], monkeypatch: pytest.MonkeyPatch) -> None:
    """The heaviest part runs on a session and thread of its own, so on a large ledger it
    overlaps the others; the figures shown are the same."""
    engine, _ = book
    seen: dict[str, tuple[int, str]] = {}

    def spy(name: str, real: Any) -> Any:
        def call(session: Session, *args: Any) -> Any:
            seen[name] = (id(session), threading.current_thread().name)
            return real(session, *args)
        return call

    monkeypatch.setattr(data, "portfolio_figures", spy("quality", data.portfolio_figures))
    monkeypatch.setattr(data, "fund_cash", spy("cash", data.fund_cash))
    monkeypatch.setattr(data, "at_risk", spy("at_risk", data.at_risk))
    app = app_on(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        shown = screen_text(app)
    assert "computing…" not in shown and "PAR30" in shown
    assert seen["cash"] == seen["at_risk"]  # the other parts share the worker's session
    assert seen["quality"][0] != seen["cash"][0]
    assert seen["quality"][1] != seen["cash"][1]


def _nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(sys.platform != "linux", reason="a thread's own priority is Linux's")
@sync
async def test_the_figures_are_computed_on_threads_that_give_way_to_the_keys(
        book: tuple[sa.Engine, dict[str, int]], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every part, the one beside the others included, runs on a thread of lower priority
    than the app's (`tui.lowered`); the app's own thread, which answers the keys, keeps its
    own, and the figures shown are the same."""
    engine, _ = book
    seen: dict[str, int] = {}

    def spy(name: str, real: Any) -> Any:
        def call(session: Session, *args: Any) -> Any:
            seen[name] = _nice()
            return real(session, *args)
        return call

    for name in ("waiting", "due_this_month", "fund_cash", "monthly_flows",
                 "portfolio_figures", "at_risk"):
        monkeypatch.setattr(data, name, spy(name, getattr(data, name)))
    ours = _nice()
    app = app_on(engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        shown = screen_text(app)
        assert _nice() == ours
    assert "computing…" not in shown and "PAR30" in shown
    assert len(seen) == 6 and set(seen.values()) == {max(ours, NICE)}, seen


@pytest.mark.postgres
@sync
async def test_on_postgresql_the_figures_leave_a_core_to_the_keys(
        pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dashboard's sessions, its own and the one beside it, run without parallel query
    workers; the connections they give back to the pool, and every other session, keep the
    server's setting."""
    seen: dict[str, str] = {}

    def spy(name: str, real: Any) -> Any:
        def call(session: Session, *args: Any) -> Any:
            seen[name] = str(session.execute(
                sa.text("SHOW max_parallel_workers_per_gather")).scalar_one())
            return real(session, *args)
        return call

    monkeypatch.setattr(data, "portfolio_figures", spy("quality", data.portfolio_figures))
    monkeypatch.setattr(data, "fund_cash", spy("cash", data.fund_cash))
    with small_ledger(pg_url) as (engine, _):
        app = app_on(engine)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            with app.read_session() as other:
                elsewhere = str(other.execute(
                    sa.text("SHOW max_parallel_workers_per_gather")).scalar_one())
        with engine.connect() as connection:
            pooled = str(connection.exec_driver_sql(
                "SHOW max_parallel_workers_per_gather").scalar_one())
    assert seen == {"quality": "0", "cash": "0"}
    assert elsewhere == pooled != "0"
