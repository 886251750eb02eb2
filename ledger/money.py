"""Exact money: currencies with their minor digits, one parser, one formatter, named rounding.

Amounts are `Decimal` in the domain and integer minor units in storage. `float` is refused
everywhere, because a binary double cannot hold most decimal amounts exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

__all__ = [
    "CURRENCIES",
    "KHR",
    "USD",
    "Currency",
    "Money",
    "MoneyError",
    "format_amount",
    "get_currency",
    "parse_amount",
    "register_currency",
    "round_half_even",
    "round_to_multiple",
]


class MoneyError(ValueError):
    """An amount that cannot be accepted, with a message a person can act on."""


@dataclass(frozen=True, slots=True)
class Currency:
    """An ISO 4217 currency with its number of minor digits and how people write it."""

    code: str
    digits: int
    symbol: str
    symbol_after: bool
    unit_name: str

    @property
    def quantum(self) -> Decimal:
        """The smallest amount: 1 for riel, 0.01 for dollars."""
        return Decimal(1).scaleb(-self.digits)

    def __str__(self) -> str:
        return self.code


KHR = Currency("KHR", 0, "៛", True, "riel")
USD = Currency("USD", 2, "$", False, "dollars")
CURRENCIES: dict[str, Currency] = {KHR.code: KHR, USD.code: USD}


def register_currency(currency: Currency) -> Currency:
    """Make another currency known to the parser and the database layer."""
    CURRENCIES[currency.code] = currency
    return currency


def get_currency(code: str | Currency) -> Currency:
    """Look a currency up by its code (case-insensitive), refusing unknown ones."""
    if isinstance(code, Currency):
        return code
    found = CURRENCIES.get(code.strip().upper())
    if found is None:
        known = ", ".join(sorted(CURRENCIES))
        raise MoneyError(f"unknown currency {code!r} (known: {known})")
    return found


AmountInput = str | int | Decimal

_KHMER_DIGITS = str.maketrans("០១២៣៤៥៦៧៨៩", "0123456789")
# Spaces people and spreadsheets put between thousands: plain, no-break, thin, narrow no-break.
_SPACES = re.compile(r"[ \u00a0\u2009\u202f]")
_PLAIN = re.compile(r"^\d+(\.\d+)?$")
_GROUPED_COMMA = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
_GROUPED_SPACE = re.compile(r"^\d{1,3}( \d{3})+(\.\d+)?$")
_SIGNS = {"៛": "KHR", "$": "USD", "KHR": "KHR", "USD": "USD", "RIEL": "KHR", "RIELS": "KHR"}
_SIGN_RE = re.compile(r"(៛|\$|\bKHR\b|\bUSD\b|\bRIELS?\b)", re.IGNORECASE)


def _parse_text(text: str, currency: Currency | None) -> tuple[Decimal, Currency | None]:
    raw = text
    text = text.translate(_KHMER_DIGITS).strip()
    named: Currency | None = None
    for match in _SIGN_RE.finditer(text):
        found = get_currency(_SIGNS[match.group(0).upper()])
        if named is not None and found != named:
            raise MoneyError(f"{raw!r} names two currencies")
        named = found
    text = _SIGN_RE.sub("", text).strip()
    if currency is not None and named is not None and named != currency:
        raise MoneyError(f"{raw!r} is in {named.code}, but {currency.code} was expected")
    negative = False
    if text.startswith("-"):
        negative, text = True, text[1:].strip()
    elif text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    text = _SPACES.sub(" ", text).strip()
    if _PLAIN.match(text):
        digits = text
    elif _GROUPED_COMMA.match(text):
        digits = text.replace(",", "")
    elif _GROUPED_SPACE.match(text):
        digits = text.replace(" ", "")
    else:
        raise MoneyError(f"{raw!r} is not an amount (digits with optional thousands separators)")
    try:
        value = Decimal(digits)
    except InvalidOperation as exc:  # pragma: no cover - the regexes only pass valid literals
        raise MoneyError(f"{raw!r} is not an amount") from exc
    return (-value if negative else value), (currency or named)


def parse_amount(value: AmountInput, currency: Currency | str | None = None) -> Decimal:
    """Parse an amount exactly; refuse floats, non-numbers and more precision than the currency has.

    Accepts `int`, `Decimal`, and text such as `150000`, `150,000`, `150 000 ៛`, `១៥០០០០`,
    `$12.50`. When `currency` is None the sign in the text decides, defaulting to riel.
    """
    return Money.parse(value, currency).amount


def _check_precision(value: Decimal, currency: Currency, shown: object) -> Decimal:
    if not value.is_finite():
        raise MoneyError(f"{shown!r} is not a finite amount")
    if value != value.quantize(currency.quantum, rounding=ROUND_HALF_EVEN):
        if currency.digits == 0:
            raise MoneyError(
                f"{shown!s} is not a whole number of {currency.unit_name}: "
                f"{currency.code} has no minor units"
            )
        raise MoneyError(
            f"{shown!s} has more than {currency.digits} decimal places, "
            f"the precision of {currency.code}"
        )
    return value.quantize(currency.quantum)


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An exact amount in one currency, always at the currency's precision."""

    amount: Decimal
    currency: Currency

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"Money amount must be Decimal, not {type(self.amount).__name__}")
        if not isinstance(self.currency, Currency):  # a code such as "USD" is accepted too
            object.__setattr__(self, "currency", get_currency(self.currency))
        object.__setattr__(
            self, "amount", _check_precision(self.amount, self.currency, self.amount)
        )

    @classmethod
    def parse(cls, value: AmountInput, currency: Currency | str | None = None) -> Money:
        """Build Money from `int`, `Decimal` or text; `float` is a TypeError."""
        cur = get_currency(currency) if currency is not None else None
        if isinstance(value, (bool, float)):
            raise TypeError(
                f"refusing {type(value).__name__} {value!r} as money: pass str, int or Decimal"
            )
        if isinstance(value, int):
            amount, cur = Decimal(value), cur or KHR
        elif isinstance(value, Decimal):
            amount, cur = value, cur or KHR
        elif isinstance(value, str):
            amount, named = _parse_text(value, cur)
            cur = named or KHR
        else:
            raise TypeError(f"cannot read money from {type(value).__name__}")
        return cls(_check_precision(amount, cur, value), cur)

    @classmethod
    def zero(cls, currency: Currency | str) -> Money:
        """Nothing, in the given currency."""
        return cls(Decimal(0), get_currency(currency))

    @classmethod
    def from_minor(cls, minor: int, currency: Currency | str) -> Money:
        """Build Money from integer minor units as stored in the database."""
        if isinstance(minor, bool) or not isinstance(minor, int):
            raise TypeError("minor units must be an int")
        cur = get_currency(currency)
        return cls(Decimal(minor).scaleb(-cur.digits), cur)

    @property
    def minor(self) -> int:
        """Integer minor units (riel; cents) for storage."""
        return int(self.amount.scaleb(self.currency.digits))

    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency.code} with {other.currency.code}")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same(other).amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other).amount

    def __bool__(self) -> bool:
        return self.amount != 0

    def __str__(self) -> str:
        return format_amount(self.amount, self.currency)

    def plain(self) -> str:
        """The amount with exactly the currency's digits (`"19100"`, `"278.00"`)."""
        return f"{self.amount:.{self.currency.digits}f}"


def round_half_even(value: Decimal, currency: Currency | str) -> Decimal:
    """Round to the currency's digits, banker's rounding (HALF_EVEN), as Fineract does."""
    cur = get_currency(currency)
    return value.quantize(cur.quantum, rounding=ROUND_HALF_EVEN)


def round_to_multiple(value: Decimal, multiple: Decimal | int) -> Decimal:
    """Round to the nearest multiple of M, HALF_EVEN on ties (Fineract's `roundToMultiplesOf`)."""
    m = Decimal(multiple)
    if m <= 0:
        return value
    return (value / m).quantize(Decimal(1), rounding=ROUND_HALF_EVEN) * m


def format_amount(value: Decimal | Money, currency: Currency | str | None = None) -> str:
    """Format for people: `150,000 ៛` (never decimals for riel) and `$1,234.50`."""
    if isinstance(value, Money):
        amount, cur = value.amount, value.currency
    else:
        amount, cur = value, get_currency(currency or KHR)
    q = round_half_even(amount, cur)
    sign = "-" if q < 0 else ""
    body = f"{abs(q):,.{cur.digits}f}"
    if cur.symbol_after:
        return f"{sign}{body} {cur.symbol}"
    return f"{sign}{cur.symbol}{body}"
