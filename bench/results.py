"""`bench/RESULTS.md`: the machine, the versions, the ledger sizes and one table per database."""

from __future__ import annotations

import os
import platform
import sqlite3
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from bench.generate import Generated
from bench.timing import Row

__all__ = ["Run", "machine", "write_results"]


@dataclass(frozen=True, slots=True)
class Run:
    """One database's run: what was generated on it, its server version, its rows."""

    database: str
    version: str
    made: Generated
    rows: list[Row]
    fresh: bool = True  # generated for this run (False: a copy of a ledger built earlier)


def machine() -> list[str]:
    """Cores, memory, OS, Python and SQLite library versions."""
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return [f"- cores (nproc): {os.cpu_count()}, memory: {mem}, {platform.platform()}",
            f"- Python {sys.version.split()[0]}, SQLAlchemy {sa.__version__}, "
            f"SQLite library {sqlite3.sqlite_version}"]


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds * 1000:,.1f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def _table(run: Run) -> list[str]:
    m = run.made
    where = "generated for this run" if run.fresh else "generated earlier (the suite ran on a copy)"
    out = [f"## {run.database} ({run.version})", "",
           f"{m.loans:,} loans, {m.families:,} families in {m.villages:,} villages, "
           f"{m.repayments:,} repayments, {m.entries:,} journal entries, as of {m.as_of} "
           f"(seed {m.seed}); {where} in {m.seconds:,.1f} s, {m.batch:,} loans a batch, of "
           f"which posting the repayments through `post_repayments` "
           f"{m.repayments_seconds:,.1f} s "
           f"({m.repayments / max(m.repayments_seconds, 1e-9):,.0f}/s).", "",
           "| group | operation | time | baseline | baseline time | ratio | target | met |",
           "|---|---|---|---|---|---|---|---|"]
    for r in run.rows:
        ratio = "—" if r.ratio is None else f"{r.ratio:.2f}"
        met = "—" if r.met is None else ("met" if r.met else "**missed**")
        out.append(f"| {r.group} | {r.name} | {r.shown or _ms(r.seconds)} | {r.baseline} | "
                   f"{_ms(r.baseline_seconds)} | {ratio} | {r.target} | {met} |")
    return [*out, ""]


def write_results(path: Path, runs: list[Run], command: str, repeats: int) -> None:
    """Write the results file (replacing it)."""
    lines = ["# Benchmark results", "",
             f"Written by `{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Times are "
             f"medians of {repeats} runs after one warm-up, except the single-repayment row "
             "(p95 of 50 committed calls), the export and app rows (medians of as many fresh "
             "processes, no warm-up) and the keypress rows (p95 of every press); ratio = time "
             "÷ baseline time, measured in the same run on the same database.", "",
             *machine(), ""]
    for run in runs:
        lines += _table(run)
    lines += ["Rows/s targets are judged as times: a target of ≥ k × the baseline's rows/s "
              "is met when time ≤ baseline time ÷ k. The export, the bare writer and the "
              "terminal app each run in a fresh process (their memory and start-up are their "
              "own); `bench/README.md` says how each baseline is made.", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
