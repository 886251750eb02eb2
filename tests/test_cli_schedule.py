"""`fsf schedule`: the calculator's stable JSON, its readable table and its one-line refusals."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tui.cli import build_app

ROOT = Path(__file__).resolve().parents[1]
BASE = ["schedule", "--principal", "200000", "--currency", "KHR", "--rate", "1", "--per", "month",
        "--method", "declining", "--amortization", "equal-installments", "--repayments", "10",
        "--every", "1", "--unit", "month", "--disbursed", "2026-01-15"]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(build_app(), list(args))
    return result.exit_code, result.stdout, result.stderr


def test_json_has_the_documented_shape() -> None:
    code, out, _ = run(*BASE, "--multiple", "100", "--compare-informal", "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"currency", "principal", "installments", "totals", "apr", "eir",
                         "warnings", "compare"}
    assert data["currency"] == "KHR" and data["principal"] == "200000"
    first = data["installments"][0]
    assert first == {"number": 1, "due_date": "2026-02-15", "principal": "19100",
                     "interest": "2000", "total": "21100", "balance": "180900"}
    assert [i["number"] for i in data["installments"]] == list(range(1, 11))
    assert data["installments"][-1]["balance"] == "0"
    totals = data["totals"]
    assert Decimal(totals["principal"]) == 200000
    assert sum(Decimal(i["interest"]) for i in data["installments"]) == Decimal(totals["interest"])
    assert Decimal(totals["total"]) == Decimal(totals["principal"]) + Decimal(totals["interest"])
    assert data["apr"] == "12.00" and data["eir"] == "12.68"
    assert data["warnings"] == []
    assert len(data["compare"]) == 4
    assert set(data["compare"][0]) == {"label", "monthly_rate", "form", "installment",
                                       "total_interest", "apr", "eir", "saving"}
    io10 = data["compare"][0]
    assert (io10["monthly_rate"], io10["form"], io10["total_interest"]) == (
        "10", "interest-only", "200000")


def test_usd_amounts_have_two_digits() -> None:
    code, out, _ = run("schedule", "--principal", "12000", "--currency", "USD", "--rate", "2",
                       "--repayments", "4", "--disbursed", "2026-01-15", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["principal"] == "12000.00"
    assert all(len(i["total"].split(".")[1]) == 2 for i in data["installments"])
    assert data["compare"] == []


def test_flat_loan_shows_apr_and_warnings() -> None:
    code, out, _ = run(*BASE, "--method", "flat")
    assert code == 0
    assert "APR 21.26 %" in out
    assert "declining-balance" in out and "18 %" in out
    assert "20,000 ៛" in out


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--principal", "100.5"], "--principal: 100.5 is not a whole number of riel"),
        (["--repayments", "0"], "--repayments: must be at least 1"),
        (["--method", "weird"], "--method: 'weird' is not one of"),
        (["--disbursed", "2026-02-30"], "--disbursed"),
        (["--rate", "-1"], "--rate"),
        (["--currency", "EUR"], "--currency: unknown currency"),
        (["--grace-principal", "10"], "--grace-principal"),
        (["--fee", "300000"], "--fee"),
    ],
)
def test_bad_options_get_one_line_and_status_2(extra: list[str], needle: str) -> None:
    code, out, err = run(*BASE, *extra)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert needle in err


def test_console_script_runs() -> None:
    exe = Path(sys.executable).with_name("fsf")
    proc = subprocess.run([str(exe), *BASE, "--json"], capture_output=True, text=True, cwd=ROOT,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["apr"] == "12.00"
