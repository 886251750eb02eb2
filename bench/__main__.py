"""Run the benchmark suite: generate a ledger per database, time every group, write results.

    python -m bench [--loans 10000] [--db sqlite|postgresql|both] [--runs 3]
                    [--out bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bench import chain, montecarlo, posting, reports
from bench.databases import fresh_database, postgres_reachable
from bench.generate import generate
from bench.results import Run, write_results
from bench.timing import Row
from ledger.db import make_engine

__all__ = ["GROUPS", "main", "run_database"]

# In this order: the reading groups first, writing last (its single repayments commit).
GROUPS: tuple[Callable[[Session, date, int], list[Row]], ...] = (
    reports.run, chain.run, montecarlo.run, posting.run)


def _version(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return "SQLite " + str(conn.exec_driver_sql("select sqlite_version()").scalar())
        return str(conn.exec_driver_sql("show server_version").scalar()).join(
            ("PostgreSQL ", ""))


def run_database(kind: str, loans: int, runs: int, folder: Path, *, seed: int = 11,
                 say: Callable[[str], None] = print) -> Run:
    """Generate a ledger of `loans` on a fresh `kind` database and run every group on it."""
    with fresh_database(kind, folder) as url:
        made = generate(url, loans, seed=seed, progress=lambda m: say(f"[{kind}] {m}"))
        engine = make_engine(url)
        try:
            rows: list[Row] = []
            with Session(engine, expire_on_commit=False) as session:
                for group in GROUPS:
                    got = group(session, made.as_of, runs)
                    for r in got:
                        ratio = "" if r.ratio is None else f" ({r.ratio:.2f} × baseline)"
                        say(f"[{kind}] {r.name}: {r.seconds * 1000:,.1f} ms{ratio}")
                    rows += got
            return Run(kind, _version(engine), made, rows)
        finally:
            engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per benchmark (≥ 3)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=Path("bench/RESULTS.md"),
                        help="results file; '-' writes none")
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    if "postgresql" in kinds and not postgres_reachable():
        print("PostgreSQL is unreachable; skipping it", file=sys.stderr)
        kinds.remove("postgresql")
    with tempfile.TemporaryDirectory() as tmp:
        results = [run_database(k, args.loans, args.runs, Path(tmp), seed=args.seed)
                   for k in kinds]
    if str(args.out) != "-":
        command = "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:])
        write_results(args.out, results, command.strip(), args.runs)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
