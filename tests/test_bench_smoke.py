"""The benchmark suite at a tiny size, so it never rots: the generator writes a ledger that
verifies, and every benchmark group runs once and writes its results file. No timing asserts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from bench.__main__ import GROUPS, main, run_database
from bench.databases import fresh_database, postgres_reachable
from bench.generate import generate
from ledger.db import make_engine
from ledger.db.tables import core_table
from ledger.verify import verify_ledger

LOANS = 300


def test_the_generated_ledger_verifies_and_is_reproducible(tmp_path: Path) -> None:
    counts = []
    for name in ("a", "b"):
        url = f"sqlite:///{tmp_path / name}.sqlite"
        made = generate(url, LOANS, seed=5)
        engine = make_engine(url)
        with Session(engine) as session:
            report = verify_ledger(session)
            assert report.ok, report.checks
            loan = core_table("loan")
            statuses = dict(session.execute(sa.select(loan.c.status, sa.func.count())
                                            .group_by(loan.c.status)).all())
        engine.dispose()
        assert made.loans == LOANS and made.repayments > 5 * LOANS
        assert statuses.get("closed", 0) > 0 and statuses.get("active", 0) > 0
        counts.append((made.repayments, made.entries, statuses))
    assert counts[0] == counts[1]


def test_every_group_runs_and_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    assert main(["--loans", str(LOANS), "--runs", "1", "--db", "sqlite", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    for name in ("portfolio quality", "villages report", "collection sheet", "one loan's status",
                 "fsf verify", "Monte Carlo", "bulk posting", "one repayment"):
        assert name in text


@pytest.mark.postgres
def test_every_group_runs_on_postgresql(tmp_path: Path) -> None:
    if not postgres_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL unreachable")
        pytest.skip("PostgreSQL unreachable")
    run = run_database("postgresql", LOANS, 1, tmp_path, say=lambda _: None)
    assert len(run.rows) >= len(GROUPS)
    with fresh_database("postgresql", tmp_path) as url:
        generate(url, 50)
        engine = make_engine(url)
        with Session(engine) as session:
            assert verify_ledger(session).ok
        engine.dispose()
