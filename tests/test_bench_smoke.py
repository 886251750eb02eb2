"""The benchmark suite at a tiny size, so it never rots: the generator writes a ledger that
verifies, the same at any batch size; every benchmark group runs once and writes its results
file (an error in any group fails the run); a ledger built with --generate-only is benchmarked
on a copy that leaves it untouched. No timing asserts."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from bench.__main__ import NAMED, main, run_database
from bench.databases import fresh_database, postgres_reachable
from bench.generate import generate, read_generated
from ledger.db import make_engine
from ledger.db.tables import core_table
from ledger.loan_terms import Amortization, FrequencyUnit, InterestMethod, LoanTerms, RatePeriod
from ledger.money import KHR, Money
from ledger.schedule import build_schedule
from ledger.verify import verify_ledger

LOANS = 150
# A line of the results table per benchmark: each group's rows must all be there.
ROWS = ("portfolio quality", "villages report", "collection sheet", "one loan's status",
        "fsf verify", "Monte Carlo", "import repayments: read + validate",
        "auditor workbook export", "peak resident memory", "start to first screen",
        "loans list first page", "cursor down", "switching areas",
        "keypress while the dashboard computes its figures",
        "repayments on active loans", "bulk posting of a back-book", "one repayment")


def _ledger(url: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], dict[str, int]]:
    """Loans and repayments as written, and loans by status; the ledger must verify."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            report = verify_ledger(session)
            assert report.ok, report.checks
            loan, rp = core_table("loan"), core_table("repayment")
            loans = [tuple(r) for r in session.execute(sa.select(
                loan.c.ref, loan.c.principal_minor, loan.c.repayments, loan.c.disbursed_on,
                loan.c.status).order_by(loan.c.ref))]
            pays = [tuple(r) for r in session.execute(sa.select(
                rp.c.ref, rp.c.paid_on, rp.c.amount_minor).order_by(rp.c.ref))]
            statuses = dict(session.execute(sa.select(loan.c.status, sa.func.count())
                                            .group_by(loan.c.status)).all())
    finally:
        engine.dispose()
    return loans, pays, {str(k): int(v) for k, v in statuses.items()}


def _stored_schedules_match(url: str, sample: int = 25) -> None:
    """The generator's cached schedules are exactly what `build_schedule` makes."""
    engine = make_engine(url)
    ln, ls, si = core_table("loan"), core_table("loan_schedule"), core_table("schedule_installment")
    with Session(engine) as session:
        for loan_id, principal, months, on in session.execute(sa.select(
                ln.c.id, ln.c.principal_minor, ln.c.repayments, ln.c.disbursed_on)
                .order_by(ln.c.id).limit(sample)):
            stored = [tuple(r) for r in session.execute(
                sa.select(si.c.number, si.c.due_date, si.c.principal_minor, si.c.interest_minor)
                .join(ls, ls.c.id == si.c.schedule_id).where(ls.c.loan_id == loan_id)
                .order_by(si.c.number))]
            terms = LoanTerms(principal=Decimal(principal), currency=KHR, rate=Decimal(1),
                              rate_period=RatePeriod.MONTH, method=InterestMethod.DECLINING,
                              amortization=Amortization.EQUAL_INSTALLMENTS, repayments=months,
                              disbursed_on=on, every=1, unit=FrequencyUnit.MONTH,
                              multiple=Decimal(100))
            assert stored == [(i.number, i.due_date, Money(i.principal, KHR).minor,
                               Money(i.interest, KHR).minor)
                              for i in build_schedule(terms).installments]
    engine.dispose()


def test_the_generated_ledger_verifies_and_is_the_same_at_any_batch_size(
        tmp_path: Path) -> None:
    lines: list[str] = []
    whole = f"sqlite:///{tmp_path / 'whole'}.sqlite"
    made = generate(whole, LOANS, seed=5, batch=LOANS)
    batched = f"sqlite:///{tmp_path / 'batched'}.sqlite"
    in_batches = generate(batched, LOANS, seed=5, batch=40, progress=lines.append)
    assert sum("loans written" in line for line in lines) == 4  # 40 + 40 + 40 + 30
    a, b = _ledger(whole), _ledger(batched)
    assert a == b
    loans, pays, statuses = a
    assert made.loans == len(loans) == LOANS and made.repayments == len(pays) > 5 * LOANS
    assert in_batches.repayments == made.repayments and in_batches.batch == 40
    assert statuses.get("closed", 0) > 0 and statuses.get("active", 0) > 0
    _stored_schedules_match(batched)
    again = read_generated(batched)
    assert (again.loans, again.repayments, again.seed, again.batch) == (LOANS, made.repayments,
                                                                        5, 40)


def test_every_group_runs_and_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    assert main(["--loans", str(LOANS), "--runs", "1", "--db", "sqlite", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    for name in ROWS:
        assert name in text, name
    assert "| spreadsheets |" in text and "| app |" in text


def test_a_ledger_generated_once_is_benchmarked_on_a_copy(tmp_path: Path) -> None:
    path = tmp_path / "built.sqlite"
    assert main(["--loans", "60", "--generate-only", str(path)]) == 0
    before = _ledger(f"sqlite:///{path}")
    out = tmp_path / "RESULTS.md"
    assert main(["--ledger", str(path), "--runs", "1", "--only", "projection,writing",
                 "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "60 loans" in text and "generated earlier" in text and "one repayment" in text
    assert _ledger(f"sqlite:///{path}") == before  # the repayments were posted on the copy
    # A national ledger's workbook is timed for one province, as auditors export it.
    assert main(["--ledger", str(path), "--runs", "1", "--only", "spreadsheets",
                 "--export-place", "2001", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "auditor workbook export of 2001: " in text
    assert "auditor workbook export of 2001: peak resident memory" in text
    with pytest.raises(FileExistsError):
        main(["--loans", "60", "--generate-only", str(path)])


def test_a_failing_benchmark_fails_the_run(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import spreadsheets

    # An import workbook the ledger refuses (a loan it does not hold) must stop the suite.
    monkeypatch.setattr(spreadsheets, "HEADERS", ("payment_ref", "loan_ref", "paid_on",
                                                  "amount", "currency", "received_by", "x"))
    with pytest.raises(AssertionError, match="does not validate"):
        main(["--loans", "60", "--runs", "1", "--db", "sqlite", "--only", "spreadsheets",
              "--out", "-"])


@pytest.mark.postgres
def test_every_group_runs_on_postgresql(tmp_path: Path) -> None:
    if not postgres_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL unreachable")
        pytest.skip("PostgreSQL unreachable")
    # Every group but the app's, whose database work (the paged lists) the app's own tests
    # run on PostgreSQL; its processes would double this test's time.
    groups = tuple(fn for name, fn in NAMED.items() if name != "app")
    run = run_database("postgresql", LOANS, 1, tmp_path, groups=groups, say=lambda _: None)
    names = " ".join(r.name for r in run.rows)
    for name in ROWS[:9] + ROWS[-3:]:
        assert name in names, name
    assert {r.group for r in run.rows} >= {"reports", "verify", "spreadsheets", "writing"}
    with fresh_database("postgresql", tmp_path) as url:
        made = generate(url, 50, as_of=date(2010, 6, 30))
        assert read_generated(url).repayments == made.repayments
        engine = make_engine(url)
        with Session(engine) as session:
            assert verify_ledger(session).ok
        engine.dispose()


@pytest.mark.postgres
def test_a_postgresql_ledger_generated_once_is_benchmarked_on_a_copy(tmp_path: Path) -> None:
    if not postgres_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL unreachable")
        pytest.skip("PostgreSQL unreachable")
    with fresh_database("postgresql", tmp_path) as url:
        assert main(["--loans", "40", "--generate-only", url]) == 0
        before = _ledger(url)
        out = tmp_path / "RESULTS.md"
        assert main(["--ledger", url, "--runs", "1", "--only", "writing", "--out",
                     str(out)]) == 0
        assert "40 loans" in out.read_text(encoding="utf-8")
        assert _ledger(url) == before
        with pytest.raises(FileExistsError):  # a database that holds a ledger already
            main(["--loans", "40", "--generate-only", url])


def test_the_writing_benchmark_pays_only_loans_out_by_its_day(session: Session) -> None:
    """A ledger people have also used holds loans paid out after the generated day; a payment
    on that day would be refused for them, so the benchmark leaves them out."""
    from bench.posting import _active_loans
    from tests.support.world import build_world

    world = build_world(session, families=2)
    early = world.loan(world.families[0], on=date(2008, 1, 15))
    world.loan(world.families[1], on=date(2009, 3, 2))
    assert _active_loans(session, 10, date(2008, 6, 30)) == [early]
