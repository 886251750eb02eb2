"""`python -m bench.spreadsheets exports LEDGER RUNS`: the auditor export against the bare
writer alone, on a ledger built by `--generate-only`, without the import benchmark."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import main
from bench.spreadsheets import _main
from bench.timing import peak_mb


def test_the_export_part_runs_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "built.sqlite"
    assert main(["--loans", "40", "--generate-only", str(path)]) == 0
    capsys.readouterr()
    _main(["exports", str(path), "1"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert "auditor workbook export:" in lines[0] and "13 sheets" in lines[0]
    assert "xlsxwriter constant_memory, the same rows bare" in lines[0]
    assert "peak resident memory" in lines[1]
    assert "import" not in " ".join(lines)


def test_a_child_reports_its_own_peak_not_its_parents() -> None:
    # The suite starts each export from a process already grown by the reports before it.
    grown = bytearray(300 * 1024 * 1024)
    grown[::4096] = b"\x01" * len(grown[::4096])  # touched, so resident
    assert peak_mb() >= 300
    child = subprocess.run(
        [sys.executable, "-c", "import json; from bench.timing import peak_mb; "
                               "print(json.dumps(peak_mb()))"],
        capture_output=True, text=True, check=True)
    assert json.loads(child.stdout) < 150
    del grown
