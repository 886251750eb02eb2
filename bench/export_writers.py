"""Which xlsx writer the exports use, by measurement: openpyxl write-only against xlsxwriter
constant-memory, on the same journal-like rows (8 typed columns: sequence, date, kind, memo
in Khmer, account, debit and credit in riel with a number format, hash).

    .venv/bin/python -m bench.export_writers [--rows 200000] [--repeat 3]

Each run writes in a fresh process, so the peak resident memory (`peak_mb`) is its own;
the median rows per second of `--repeat` runs is printed per writer.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from bench.timing import peak_mb

RIEL = '#,##0 "៛"'
HEADERS = ["Seq", "Date", "Kind", "Memo", "Account", "Debit", "Credit", "Hash"]


def rows(n: int) -> Iterator[tuple[object, ...]]:
    """`n` journal-like rows, the same for every writer."""
    start = date(2008, 1, 1)
    for i in range(n):
        amount = 10_000 + (i * 7_919) % 190_000
        yield (i + 1, start + timedelta(days=i % 600), "repayment",
               f"Repayment on loan L{i % 9_000:05d} from សុខ {i % 271}",
               "RIEL.cash" if i % 2 else "RIEL.loans",
               amount if i % 2 else None, None if i % 2 else amount, f"{i:064x}")


def write_xlsxwriter(path: Path, n: int) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True,
                                           "strings_to_formulas": False})
    ws = book.add_worksheet("Journal")
    riel, day = book.add_format({"num_format": RIEL}), book.add_format({"num_format": "yyyy-mm-dd"})
    for c, h in enumerate(HEADERS):
        ws.write_string(0, c, h)
    for r, (seq, on, kind, memo, acct, debit, credit, digest) in enumerate(rows(n), start=1):
        ws.write_number(r, 0, seq)
        ws.write_datetime(r, 1, on, day)
        ws.write_string(r, 2, kind)
        ws.write_string(r, 3, memo)
        ws.write_string(r, 4, acct)
        if debit is not None:
            ws.write_number(r, 5, debit, riel)
        if credit is not None:
            ws.write_number(r, 6, credit, riel)
        ws.write_string(r, 7, digest)
    book.close()


def write_openpyxl(path: Path, n: int) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    ws = book.create_sheet("Journal")
    ws.append(HEADERS)

    def text(value: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"  # never a formula, whatever the text starts with
        return cell

    def number(value: object, fmt: str) -> WriteOnlyCell | None:
        if value is None:
            return None
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = fmt
        return cell

    for seq, on, kind, memo, acct, debit, credit, digest in rows(n):
        ws.append([seq, number(on, "yyyy-mm-dd"), text(kind), text(memo), text(acct),
                   number(debit, RIEL), number(credit, RIEL), text(digest)])
    book.save(str(path))


WRITERS = {"xlsxwriter constant_memory": write_xlsxwriter,
           "openpyxl write_only": write_openpyxl}


def _one(name: str, n: int, queue: multiprocessing.Queue[tuple[float, int, int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.xlsx"
        start = time.perf_counter()
        WRITERS[name](path, n)
        elapsed = time.perf_counter() - start
        size = path.stat().st_size
    queue.put((elapsed, round(peak_mb() * 1024), size))


def measure(name: str, n: int) -> tuple[float, int, int]:
    """(seconds, peak resident KiB, file bytes) of one run in a fresh process."""
    ctx = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[tuple[float, int, int]] = ctx.Queue()
    proc = ctx.Process(target=_one, args=(name, n, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main(argv: list[str] | None = None) -> None:
    """Run the comparison and print one line per writer."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"{args.rows:,} rows x {len(HEADERS)} columns, median of {args.repeat} runs")
    for name in WRITERS:
        runs = [measure(name, args.rows) for _ in range(args.repeat)]
        seconds = statistics.median(r[0] for r in runs)
        peak = max(r[1] for r in runs) / 1024
        size = runs[0][2] / 1e6
        print(f"{name:28s} {args.rows / seconds:10,.0f} rows/s  {seconds:6.1f} s  "
              f"peak RSS {peak:6.0f} MiB  file {size:5.1f} MB")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
