"""`python -m bench.spreadsheets exports LEDGER RUNS`: the auditor export against the bare
writer alone, on a ledger built by `--generate-only`, without the import benchmark."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.__main__ import main
from bench.spreadsheets import _main


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
