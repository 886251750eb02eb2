"""An independent oracle for the projection tests, written from the textbook formulas."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal


def foundation_rows(principal: int, months: int, rate_pct: int = 1) -> list[Decimal]:
    """Installment totals of an equal-installment declining loan, multiples of 100 riel.

    PMT = P·r / (1 − (1 + r)^−n) rounded to the nearest 100 (ties up); interest on the opening
    balance to the riel (HALF_EVEN); the last installment clears the balance.
    """
    r = Decimal(rate_pct) / 100
    p = Decimal(principal)
    pmt = p * r / (1 - (1 + r) ** -months) if r else p / months
    emi = (pmt / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP) * 100
    balance, out = p, []
    for k in range(1, months + 1):
        interest = (balance * r).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
        principal_part = balance if k == months else emi - interest
        balance -= principal_part
        out.append(principal_part + interest)
    return out


def test_oracle_agrees_with_numpy_financial() -> None:
    import numpy_financial as npf

    for principal, months in ((200_000, 10), (90_000, 10), (1_100_000, 12), (50_000, 1)):
        rows = foundation_rows(principal, months)
        pmt = -npf.pmt(0.01, months, principal)
        assert abs(rows[0] - Decimal(round(pmt / 100) * 100)) <= 100 or months == 1
        assert sum(rows) > principal
