"""What a cell may hold, and the guard that keeps user text from ever becoming a formula.

Amounts travel as `Amount` (integer minor units and a currency code) from SQL to the file, so
no float is ever made on the way: riel are written as whole numbers, dollars as exact
`Decimal` cents, each with its currency's number format.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from ledger.money import get_currency

__all__ = [
    "DANGEROUS_PREFIXES",
    "NUMBER_FORMATS",
    "Amount",
    "Cell",
    "Formula",
    "amount_text",
    "csv_text",
    "is_dangerous",
    "number_format",
]

# A spreadsheet program may read text starting with one of these as a formula (or DDE call).
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# Cell number formats by currency; unknown currencies show their code after the number.
NUMBER_FORMATS: dict[str, str] = {
    "KHR": '#,##0 "៛"',
    "USD": "$#,##0.00",
}


@dataclass(frozen=True, slots=True)
class Amount:
    """An amount in integer minor units of `currency`, exactly as the database keeps it."""

    minor: int
    currency: str

    @property
    def value(self) -> int | Decimal:
        """The number a cell holds: whole riel as `int`, other currencies as exact `Decimal`."""
        digits = _digits(self.currency)
        return self.minor if digits == 0 else Decimal(self.minor).scaleb(-digits)


@dataclass(frozen=True, slots=True)
class Formula:
    """A live formula (`=...`) and the result the ledger expects, stored as the cached value
    so a program that does not recalculate on opening still shows the figure."""

    text: str
    cached: bool | int | Decimal | str | None = None
    currency: str | None = None  # number format of the result, when it is an amount


Cell = str | int | Decimal | bool | date | datetime | Amount | Formula | None


@lru_cache(maxsize=16)
def _digits(code: str) -> int:
    return get_currency(code).digits


@lru_cache(maxsize=16)
def number_format(currency: str) -> str:
    """The cell number format of an amount in `currency`."""
    known = NUMBER_FORMATS.get(currency)
    if known is not None:
        return known
    digits = _digits(currency)
    body = "#,##0" + ("." + "0" * digits if digits else "")
    return f'{body} "{currency}"'


def is_dangerous(text: str) -> bool:
    """Whether a spreadsheet program could take this text for a formula."""
    return text.startswith(DANGEROUS_PREFIXES)


def csv_text(text: str) -> str:
    """Text safe for a CSV a spreadsheet will open: a leading apostrophe before anything that
    could start a formula (the OWASP rule for CSV injection)."""
    return "'" + text if is_dangerous(text) else text


def amount_text(amount: Amount) -> str:
    """An amount as plain text with exactly its currency's digits (`"150000"`, `"12.50"`)."""
    digits = _digits(amount.currency)
    if digits == 0:
        return str(amount.minor)
    return f"{Decimal(amount.minor).scaleb(-digits):.{digits}f}"
