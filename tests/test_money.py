"""Money: one parser, exact amounts, explicit rounding, riel formatted without decimals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.money import (
    KHR,
    USD,
    Currency,
    Money,
    MoneyError,
    format_amount,
    get_currency,
    parse_amount,
    register_currency,
    round_half_even,
    round_to_multiple,
)


@pytest.mark.parametrize(
    ("text", "currency", "expected"),
    [
        ("150000", KHR, Decimal(150000)),
        ("150,000", KHR, Decimal(150000)),
        ("150 000 ៛", KHR, Decimal(150000)),
        ("150\u00a0000", KHR, Decimal(150000)),
        ("១៥០០០០", KHR, Decimal(150000)),
        ("១៥០,០០០ ៛", KHR, Decimal(150000)),
        ("$12.50", None, Decimal("12.50")),
        ("12.5", USD, Decimal("12.50")),
        ("1,234.50", USD, Decimal("1234.50")),
        ("-2,000", KHR, Decimal(-2000)),
        ("  7 ", None, Decimal(7)),
    ],
)
def test_parses_what_people_write(text: str, currency: Currency | None, expected: Decimal) -> None:
    assert parse_amount(text, currency) == expected


def test_dollar_sign_decides_the_currency() -> None:
    assert Money.parse("$12.50").currency == USD
    assert Money.parse("150,000 ៛").currency == KHR
    assert Money.parse("150000").currency == KHR


def test_float_is_refused_everywhere() -> None:
    with pytest.raises(TypeError, match="float"):
        Money.parse(1.5, KHR)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        parse_amount(100.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(1.5, KHR)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money.parse(True, KHR)


@pytest.mark.parametrize("text", ["100.5", "0.1", "១០០.៥"])
def test_fractional_riel_is_refused_with_a_reason(text: str) -> None:
    with pytest.raises(MoneyError, match="whole number of riel"):
        parse_amount(text, KHR)


def test_more_than_cents_is_refused() -> None:
    with pytest.raises(MoneyError, match="2 decimal places"):
        parse_amount("1.005", USD)


@pytest.mark.parametrize("text", ["12,5", "1,00", "abc", "", "12..5", "1 2", "ដប់"])
def test_text_that_is_not_an_amount(text: str) -> None:
    with pytest.raises(MoneyError):
        parse_amount(text, KHR)


def test_conflicting_currency_is_refused() -> None:
    with pytest.raises(MoneyError, match="USD"):
        parse_amount("$5", KHR)


def test_formatting() -> None:
    assert format_amount(Decimal(150000), KHR) == "150,000 ៛"
    assert str(Money.parse("1234.5", USD)) == "$1,234.50"
    assert str(Money.parse("-2500", KHR)) == "-2,500 ៛"
    assert Money.parse("278", USD).plain() == "278.00"
    assert Money.parse("19100", KHR).plain() == "19100"


def test_minor_units_round_trip() -> None:
    assert Money.parse("$12.34").minor == 1234
    assert Money.from_minor(1234, "USD") == Money.parse("12.34", USD)
    assert Money.from_minor(150000, KHR).amount == Decimal(150000)


def test_arithmetic_keeps_currency() -> None:
    a = Money.parse(100, KHR)
    assert (a + a).amount == 200
    assert (a - Money.parse(300, KHR)).amount == -200
    with pytest.raises(MoneyError):
        _ = a + Money.parse(1, USD)


def test_rounding_helpers() -> None:
    assert round_half_even(Decimal("2.5"), KHR) == 2
    assert round_half_even(Decimal("3.5"), KHR) == 4
    assert round_half_even(Decimal("0.125"), USD) == Decimal("0.12")
    assert round_to_multiple(Decimal(21116), 100) == 21100
    assert round_to_multiple(Decimal(21150), 100) == 21200  # tie to even hundred
    assert round_to_multiple(Decimal(21250), 100) == 21200
    assert round_to_multiple(Decimal(21151), 100) == 21200


def test_other_currencies_can_be_added() -> None:
    thb = register_currency(Currency("THB", 2, "฿", False, "baht"))
    assert get_currency("thb") is thb
    with pytest.raises(MoneyError, match="unknown currency"):
        get_currency("XYZ")


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_format_then_parse_is_identity_for_riel(n: int) -> None:
    assert parse_amount(format_amount(Decimal(n), KHR), KHR) == n


@given(st.integers(min_value=-(10**13), max_value=10**13))
def test_format_then_parse_is_identity_for_dollars(cents: int) -> None:
    m = Money.from_minor(cents, USD)
    assert Money.parse(str(m)) == m
