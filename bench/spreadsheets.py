"""Spreadsheets against their bare libraries, on the generated ledger.

Import: `fsf import repayments` reading and validating a workbook of payments on the ledger's
active loans (`imports.validate`: the reader, every cell parsed, every loan looked up and its
payments checked against what it owes) against python-calamine reading the same file and
doing nothing else.

Export: the auditor workbook (`fsf export ledger`, `exports.ledger_book.export_ledger`) against
xlsxwriter in constant-memory mode writing the same rows, read back from the exported file,
with nothing computed. Each export runs in a fresh process, so its peak resident memory is its
own; the bare writer times only its writing, on up to `BARE_SAMPLE` rows of each sheet.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any
from unittest.mock import patch

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bench.timing import Row, interleaved_medians, median_seconds, peak_mb
from ledger.actor import SYSTEM
from ledger.db.tables import core_table

__all__ = ["BARE_SAMPLE", "import_rows", "run", "write_repayments_workbook"]

IMPORT_SHEET = "repayments"
HEADERS = ("payment_ref", "loan_ref", "paid_on", "amount", "currency", "received_by", "note")
BARE_SAMPLE = 100_000  # rows per sheet the bare writer writes (its rate is linear in rows)
MEMORY_LIMIT_MB = 500


def import_rows(loans: int) -> int:
    """Rows of the import workbook for a ledger of `loans`: twice the loans, 1,000-100,000."""
    return max(1_000, min(100_000, 2 * loans))


def write_repayments_workbook(session: Session, path: Path, rows: int, as_of: date) -> int:
    """A repayments workbook as a treasurer fills the template: `rows` payments of 100 riel
    received on `as_of`, spread over the active loans (each well under what its loan owes).
    Returns the rows written."""
    import xlsxwriter

    loan = core_table("loan")
    refs = [str(r) for r in session.execute(
        sa.select(loan.c.ref).where(loan.c.status == "active").order_by(loan.c.id)).scalars()]
    session.rollback()
    if not refs:
        raise RuntimeError("the ledger has no active loan to import repayments for")
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet(IMPORT_SHEET)
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    for c, header in enumerate(HEADERS):
        sheet.write_string(0, c, header)
    for n in range(rows):
        r = n + 1
        sheet.write_string(r, 0, f"BENCH-IMPORT-{r:07d}")
        sheet.write_string(r, 1, refs[n % len(refs)])
        sheet.write_datetime(r, 2, datetime(as_of.year, as_of.month, as_of.day), day)
        sheet.write_number(r, 3, 100)
        sheet.write_string(r, 4, "KHR")
        sheet.write_string(r, 5, "Treasurer Chea")
    book.close()
    return rows


def _bare_read(path: Path) -> int:
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return len(book.get_sheet_by_name(IMPORT_SHEET).to_python(skip_empty_area=False)) - 1


def _import_rows(session: Session, as_of: date, runs: int, folder: Path) -> list[Row]:
    from imports import validate
    from imports.api import columns_of
    from imports.columns import match_headers, parse_table
    from imports.reader import read_table

    bind = session.get_bind()
    loans = int(session.execute(sa.select(sa.func.count()).select_from(
        core_table("loan"))).scalar_one())
    path = folder / "repayments.xlsx"
    rows = write_repayments_workbook(session, path, import_rows(loans), as_of)
    if _bare_read(path) != rows:
        raise AssertionError("python-calamine did not read back every row written")

    def check() -> None:
        preview = validate("repayments", path, session=session, actor=SYSTEM, today=as_of)
        if not preview.valid or preview.created != rows:
            raise AssertionError(f"the import workbook does not validate on {bind.dialect.name}"
                                 f": {[str(p) for p in preview.problems[:3]]}")

    def cells() -> None:
        sheet = read_table(path, IMPORT_SHEET)
        mapping, _, _ = match_headers(sheet, columns_of("repayments"), "repayments")
        parse_table(sheet, mapping)

    def serial() -> None:
        with patch("imports.beside._apart", lambda _: None):
            check()

    bare, whole, one_by_one = interleaved_medians([lambda: _bare_read(path), check, serial],
                                                  runs)
    reader = median_seconds(lambda: read_table(path, IMPORT_SHEET), runs)
    typed = median_seconds(cells, runs)
    base = f"python-calamine reading the same file ({rows / bare:,.0f} rows/s)"
    return [
        Row("spreadsheets", f"import repayments: read + validate {rows:,} rows "
            f"({rows / whole:,.0f} rows/s)", whole, base, bare,
            "≥ 0.5 × baseline rows/s (time ≤ 2 × baseline)", whole <= 2 * bare),
        Row("spreadsheets", "… the same with every lookup on the session, one after another "
            "(without `imports.beside`)", one_by_one, base, bare, "(informative)", None),
        Row("spreadsheets", f"… of which the reader (imports.reader.read_table, "
            f"{rows / reader:,.0f} rows/s)", reader, base, bare, "(informative)", None),
        Row("spreadsheets", f"… the reader and every cell typed (imports.columns.parse_table, "
            f"{rows / typed:,.0f} rows/s); the rest is the ledger checks", typed, base, bare,
            "(informative)", None),
    ]


# --- export, each in its own process ---------------------------------------------------------

def _child_export(url: str, as_of: date, path: Path, places: tuple[str, ...] = ()
                  ) -> dict[str, Any]:
    """Write the auditor workbook (of `places` only, when given); its seconds, data rows,
    sheets and peak memory."""
    from exports.ledger_book import export_ledger
    from ledger.db import make_engine
    from ledger.db.engine import read_only

    engine = make_engine(url)
    try:
        # As `fsf export ledger` reads: one snapshot, no write lock held for its minutes.
        with Session(read_only(engine), expire_on_commit=False) as session:
            started, cpu = time.perf_counter(), time.process_time()
            made = export_ledger(session, actor=SYSTEM, as_of=as_of, path=path,
                                 places=places)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            session.rollback()
    finally:
        engine.dispose()
    if not made.checks_hold:
        raise AssertionError("the auditor workbook's checks do not hold")
    return {"seconds": seconds, "cpu": cpu, "rows": sum(n for _, n in made.sheets),
            "sheets": made.sheets, "peak_mb": peak_mb()}


def _bare_write(sheets: list[tuple[str, list[list[Any]]]], path: Path) -> tuple[float, float]:
    """Seconds and processor seconds xlsxwriter (constant memory) takes to write `sheets`,
    cell by typed cell."""
    import xlsxwriter

    started, cpu = time.perf_counter(), time.process_time()
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True,
                                           "strings_to_formulas": False})
    day, stamp = (book.add_format({"num_format": "yyyy-mm-dd"}),
                  book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}))
    for name, rows in sheets:
        ws = book.add_worksheet(name)
        for r, values in enumerate(rows):
            for c, value in enumerate(values):
                if value is None or value == "":
                    continue
                if isinstance(value, str):
                    ws.write_string(r, c, value)
                elif isinstance(value, bool):
                    ws.write_boolean(r, c, value)
                elif isinstance(value, (int, float)):
                    ws.write_number(r, c, value)
                elif isinstance(value, datetime):
                    ws.write_datetime(r, c, value, stamp)
                elif isinstance(value, date):
                    ws.write_datetime(r, c, value, day)
                else:
                    ws.write_string(r, c, str(value))
    book.close()
    return time.perf_counter() - started, time.process_time() - cpu


def _child_bare(source: Path, path: Path) -> dict[str, Any]:
    """The exported workbook's rows (up to BARE_SAMPLE a sheet) written bare; timed writing."""
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_path(str(source))
    sheets = []
    for name in book.sheet_names:
        rows: list[list[Any]] = []
        for values in book.get_sheet_by_name(name).iter_rows():
            rows.append(values)
            if len(rows) > BARE_SAMPLE:
                break
        sheets.append((name, rows))
    book.close()
    seconds, cpu = _bare_write(sheets, path)
    return {"seconds": seconds, "cpu": cpu, "rows": sum(max(len(r) - 1, 0) for _, r in sheets),
            "peak_mb": peak_mb()}


def _in_child(*args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "bench.spreadsheets", *args],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench.spreadsheets {args[0]} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _export_rows(url: str, as_of: date, runs: int, folder: Path,
                 places: tuple[str, ...] = ()) -> list[Row]:
    out = folder / "auditor.xlsx"
    exports, bares = [], []
    for _ in range(max(1, runs)):  # alternated, so both see the same load on the machine
        exports.append(_in_child("export", url, as_of.isoformat(), str(out), *places))
        bares.append(_in_child("bare", str(out), str(folder / "bare.xlsx")))
    rows = exports[0]["rows"]
    seconds = statistics.median(e["seconds"] for e in exports)
    peak = max(e["peak_mb"] for e in exports)
    bare_rate = statistics.median(b["rows"] / b["seconds"] for b in bares)
    bare_seconds = rows / bare_rate  # the bare writer's time for every row of the export
    # Processor time too: on a shared machine it moves less than the clock.
    cpu = statistics.median(e["cpu"] for e in exports)
    bare_cpu = rows / statistics.median(b["rows"] / b["cpu"] for b in bares)
    biggest = max(exports[0]["sheets"], key=lambda s: s[1])
    of = f" of {', '.join(places)}" if places else ""
    return [
        Row("spreadsheets", f"auditor workbook export{of}: {rows:,} rows on "
            f"{len(exports[0]['sheets'])} sheets, {biggest[0]} {biggest[1]:,} "
            f"({rows / seconds:,.0f} rows/s; processor time {cpu / bare_cpu:.2f} × the "
            "bare writer's)", seconds,
            f"xlsxwriter constant_memory, the same rows bare ({bare_rate:,.0f} rows/s)",
            bare_seconds, "≥ 0.8 × baseline rows/s (time ≤ 1.25 × baseline)",
            seconds <= 1.25 * bare_seconds),
        Row("spreadsheets", f"auditor workbook export{of}: peak resident memory of its process",
            seconds, f"the bare writer's process: {max(b['peak_mb'] for b in bares):,.0f} MB",
            None, f"≤ {MEMORY_LIMIT_MB} MB", peak <= MEMORY_LIMIT_MB, shown=f"{peak:,.0f} MB"),
    ]


def run(session: Session, as_of: date, runs: int, places: tuple[str, ...] = ()) -> list[Row]:
    """Import read + validation against python-calamine; the auditor export (of `places`
    only, when given: a national ledger's province) against the bare writer, with its peak
    memory."""
    url = session.get_bind().engine.url.render_as_string(hide_password=False)
    session.rollback()  # the export's process must be able to take the database's locks
    with tempfile.TemporaryDirectory(prefix="fsf-bench-") as tmp:
        folder = Path(tmp)
        rows = _import_rows(session, as_of, runs, folder)
        session.rollback()
        rows += _export_rows(url, as_of, runs, folder, places)
    return rows


def _main_import(ledger: str, runs: int) -> None:
    """Print the import rows measured on a copy of a ledger `--generate-only` built."""
    from bench.databases import copy_of, ledger_url
    from bench.generate import read_generated
    from ledger.db import make_engine

    url = ledger_url(ledger)
    as_of = read_generated(url).as_of
    with tempfile.TemporaryDirectory(prefix="fsf-bench-") as tmp, \
            copy_of(url, Path(tmp)) as copy:
        engine = make_engine(copy)
        try:
            with Session(engine, expire_on_commit=False) as session:
                for row in _import_rows(session, as_of, runs, Path(tmp)):
                    print(f"{row.seconds * 1000:9,.1f} ms  ratio {row.ratio or 0:5.2f}  "
                          f"{row.name}")
        finally:
            engine.dispose()


def _main_export(ledger: str, runs: int, places: tuple[str, ...] = ()) -> None:
    """Print the export rows measured on a ledger `--generate-only` built (only read): of the
    whole ledger, or of `places` (a national ledger's province: its whole workbook would need
    more temporary disk than a laptop has)."""
    from bench.databases import ledger_url
    from bench.generate import read_generated

    url = ledger_url(ledger)
    as_of = read_generated(url).as_of
    with tempfile.TemporaryDirectory(prefix="fsf-bench-") as tmp:
        for row in _export_rows(url, as_of, runs, Path(tmp), places):
            print(f"{row.seconds * 1000:9,.1f} ms  ratio {row.ratio or 0:5.2f}  "
                  f"{row.shown or ''} {row.name}; baseline: {row.baseline}")


def _main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.spreadsheets",
                                     description="one measured export (used by the suite)")
    parser.add_argument("what", choices=("export", "bare", "import", "exports"))
    parser.add_argument("args", nargs="+")
    args = parser.parse_args(argv)
    if args.what == "import":  # the import rows alone: `import LEDGER [RUNS]`
        _main_import(args.args[0], int(args.args[1]) if len(args.args) > 1 else 3)
        return
    if args.what == "exports":  # the export rows alone: `exports LEDGER [RUNS [PLACE ...]]`
        _main_export(args.args[0], int(args.args[1]) if len(args.args) > 1 else 3,
                     tuple(args.args[2:]))
        return
    if args.what == "export":
        url, as_of, path, *places = args.args
        result = _child_export(url, date.fromisoformat(as_of), Path(path), tuple(places))
    else:
        source, path = args.args
        result = _child_bare(Path(source), Path(path))
    print(json.dumps(result))


if __name__ == "__main__":
    _main()
