"""`fsf compare`: the documented JSON, the readable table and one-line refusals."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from test_projection_oracle import foundation_rows
from typer.testing import CliRunner

from tui.cli import build_app


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(build_app(), ["compare", *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_has_the_documented_shape_and_hand_values() -> None:
    code, out, _ = run("--amount", "200,000", "--months", "10", "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"currency", "principal", "months", "foundation", "informal"}
    assert (data["currency"], data["principal"], data["months"]) == ("KHR", "200000", 10)
    rows = foundation_rows(200_000, 10)
    interest = sum(rows) - 200_000
    assert data["foundation"] == {
        "installment": str(rows[0]),
        "total_interest": str(interest),
        "apr": "12.00",
        "eir": "12.68",
    }
    assert len(data["informal"]) == 4
    keys = {
        "label",
        "monthly_rate",
        "form",
        "installment",
        "last_installment",
        "total_interest",
        "apr",
        "eir",
        "saving",
    }
    assert all(set(o) == keys for o in data["informal"])
    got = [
        (
            o["monthly_rate"],
            o["form"],
            o["installment"],
            o["last_installment"],
            o["total_interest"],
            o["saving"],
        )
        for o in data["informal"]
    ]
    assert got == [
        ("10", "interest-only", "20000", "220000", "200000", str(200_000 - interest)),
        ("10", "flat", "40000", "40000", "200000", str(200_000 - interest)),
        ("15", "interest-only", "30000", "230000", "300000", str(300_000 - interest)),
        ("15", "flat", "50000", "50000", "300000", str(300_000 - interest)),
    ]
    # 10 % a month interest-only is exactly 10 % a month: APR 120 %, EIR 1.1^12 − 1.
    assert data["informal"][0]["apr"] == "120.00"
    assert data["informal"][0]["eir"] == "213.84"
    assert all(isinstance(v, str) for o in data["informal"] for k, v in o.items())


def test_rate_option_changes_the_foundation_loan() -> None:
    code, out, _ = run("--amount", "100000", "--months", "6", "--rate", "2", "--json")
    assert code == 0
    data = json.loads(out)
    rows = foundation_rows(100_000, 6, rate_pct=2)
    assert data["foundation"]["installment"] == str(rows[0])
    assert Decimal(data["foundation"]["total_interest"]) == sum(rows) - 100_000
    assert data["foundation"]["apr"] == "24.00"


def test_text_table() -> None:
    code, out, _ = run("--amount", "200000", "--months", "10")
    assert code == 0
    assert out.startswith("Borrowing 200,000 ៛ over 10 months")
    assert "Foundation, 1 % a month, declining" in out
    assert "15 % a month, flat" in out and "288,829 ៛" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--amount", "100.5", "--months", "10"], "--amount: 100.5 is not a whole number of riel"),
        (["--amount", "0", "--months", "10"], "--amount: '0' must be more than zero"),
        (["--amount", "abc", "--months", "10"], "--amount:"),
        (["--amount", "200000", "--months", "0"], "--months: must be at least 1"),
        (["--amount", "200000", "--months", "ten"], "--months: 'ten' is not a whole number"),
        (["--amount", "200000", "--months", "10", "--rate", "-1"], "--rate:"),
        (["--amount", "200000", "--months", "121"], "--months: must be at most 120"),
    ],
)
def test_refusals_are_one_line_with_exit_2(args: list[str], needle: str) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    assert err.startswith("fsf compare: ") and needle in err
    assert err.count("\n") == 1
