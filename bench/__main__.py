"""Run the benchmark suite: generate a ledger per database (or copy one built earlier), time
every group, write the results.

    python -m bench [--loans 10000] [--db sqlite|postgresql|both] [--runs 3] [--batch 10000]
                    [--only reports,verify,...] [--export-place 20] [--out bench/RESULTS.md]
    python -m bench --loans 1000000 --generate-only national.sqlite   # build once (long)
    python -m bench --ledger national.sqlite [--ledger postgresql+psycopg://…/national]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bench import app, chain, montecarlo, posting, reports, spreadsheets
from bench.databases import (
    copy_of,
    create_database,
    fresh_database,
    kind_of,
    ledger_url,
    postgres_reachable,
)
from bench.generate import BATCH, Generated, generate, read_generated
from bench.results import Run, write_results
from bench.timing import Row
from ledger.db import current_revision, head_revision, make_engine, upgrade

__all__ = ["GROUPS", "main", "run_database", "run_groups"]

Group = Callable[[Session, date, int], list[Row]]
# In this order: the reading groups first, writing last (its single repayments commit).
NAMED: dict[str, Group] = {
    "reports": reports.run, "verify": chain.run, "projection": montecarlo.run,
    "spreadsheets": spreadsheets.run, "app": app.run, "writing": posting.run}
GROUPS: tuple[Group, ...] = tuple(NAMED.values())


def _version(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return "SQLite " + str(conn.exec_driver_sql("select sqlite_version()").scalar())
        return str(conn.exec_driver_sql("show server_version").scalar()).join(
            ("PostgreSQL ", ""))


def run_groups(url: str, as_of: date, runs: int, groups: tuple[Group, ...] = GROUPS, *,
               say: Callable[[str], None] = print) -> tuple[str, list[Row]]:
    """Every group on the ledger at `url`: its server version and the rows, in order."""
    engine = make_engine(url)
    try:
        rows: list[Row] = []
        with Session(engine, expire_on_commit=False) as session:
            for group in groups:
                started = time.perf_counter()
                got = group(session, as_of, runs)
                session.rollback()  # no group leaves a transaction (or a lock) to the next
                for r in got:
                    ratio = "" if r.ratio is None else f" ({r.ratio:.2f} × baseline)"
                    say(f"{r.name}: {r.shown or f'{r.seconds * 1000:,.1f} ms'}{ratio}")
                say(f"({group.__module__} took {time.perf_counter() - started:,.1f} s)")
                rows += got
        return _version(engine), rows
    finally:
        engine.dispose()


def run_database(kind: str, loans: int, runs: int, folder: Path, *, seed: int = 11,
                 batch: int = BATCH, groups: tuple[Group, ...] = GROUPS,
                 say: Callable[[str], None] = print) -> Run:
    """Generate a ledger of `loans` on a fresh `kind` database and run the groups on it."""
    with fresh_database(kind, folder) as url:
        made = generate(url, loans, seed=seed, batch=batch,
                        progress=lambda m: say(f"[{kind}] {m}"))
        version, rows = run_groups(url, made.as_of, runs, groups,
                                   say=lambda m: say(f"[{kind}] {m}"))
        return Run(kind, version, made, rows)


def run_ledger(url: str, runs: int, folder: Path, *, groups: tuple[Group, ...] = GROUPS,
               say: Callable[[str], None] = print) -> Run:
    """Run the groups on a copy of a ledger `--generate-only` built earlier."""
    made: Generated = read_generated(url)
    kind = kind_of(url)
    say(f"[{kind}] copying the ledger of {made.loans:,} loans")
    with copy_of(url, folder) as copy:
        engine = make_engine(copy)
        try:  # a ledger built by an older version is upgraded, as `fsf db upgrade` would
            if current_revision(engine) != head_revision():
                say(f"[{kind}] upgrading the copy to schema {head_revision()}")
                upgrade(engine)
        finally:
            engine.dispose()
        version, rows = run_groups(copy, made.as_of, runs, groups,
                                   say=lambda m: say(f"[{kind}] {m}"))
    return Run(kind, version, made, rows, fresh=False)


def _exports_of(places: tuple[str, ...]) -> Group:
    """The spreadsheets group with the auditor workbook of `places` only."""
    def run(session: Session, as_of: date, runs: int) -> list[Row]:
        return spreadsheets.run(session, as_of, runs, places)

    run.__module__ = spreadsheets.__name__
    return run


def _groups(only: str | None, places: tuple[str, ...] = ()) -> tuple[Group, ...]:
    named = dict(NAMED, spreadsheets=_exports_of(places)) if places else NAMED
    if not only:
        return tuple(named.values())
    names = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in names if n not in named]
    if unknown:
        raise SystemExit(f"--only: unknown group(s) {', '.join(unknown)}; groups: "
                         f"{', '.join(named)}")
    return tuple(named[n] for n in named if n in names)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per benchmark (≥ 3)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--batch", type=int, default=BATCH,
                        help="loans written and their repayments posted per transaction")
    parser.add_argument("--only", help=f"comma-separated groups to run: {', '.join(NAMED)}")
    parser.add_argument("--generate-only", metavar="PATH_OR_URL",
                        help="build a ledger there (a new SQLite file or a PostgreSQL URL) "
                             "and stop; run the suite on it later with --ledger")
    parser.add_argument("--ledger", metavar="PATH_OR_URL", action="append",
                        help="run on a copy of this ledger built by --generate-only "
                             "(repeat for one of each database)")
    parser.add_argument("--export-place", metavar="CODE", action="append", default=[],
                        help="time the auditor workbook of this place (a province's code: 20) "
                             "instead of the whole ledger's, which at 1M needs tens of GB of "
                             "temporary disk; repeat for several")
    parser.add_argument("--out", type=Path, default=Path("bench/RESULTS.md"),
                        help="results file; '-' writes none")
    args = parser.parse_args(argv)
    if args.generate_only:
        url = ledger_url(args.generate_only)
        create_database(url)
        made = generate(url, args.loans, seed=args.seed, batch=args.batch,
                        progress=lambda m: print(m, flush=True))
        print(f"built {made.loans:,} loans at {args.generate_only}; run the suite on it with "
              f"`python -m bench --ledger {args.generate_only}`")
        return 0
    groups = _groups(args.only, tuple(args.export_place))
    with tempfile.TemporaryDirectory(prefix="fsf-bench-") as tmp:
        if args.ledger:
            results = [run_ledger(ledger_url(u), args.runs, Path(tmp), groups=groups)
                       for u in args.ledger]
        else:
            kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
            if "postgresql" in kinds and not postgres_reachable():
                print("PostgreSQL is unreachable; skipping it", file=sys.stderr)
                kinds.remove("postgresql")
            results = [run_database(k, args.loans, args.runs, Path(tmp), seed=args.seed,
                                    batch=args.batch, groups=groups) for k in kinds]
    if str(args.out) != "-":
        command = "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:])
        write_results(args.out, results, command.strip(), args.runs)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
