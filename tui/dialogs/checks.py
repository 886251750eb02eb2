"""Field checks for dialogs and forms: each returns a problem a person can act on, or None."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from ledger.money import Money

__all__ = ["amount_check", "date_check", "parse_date", "required", "whole_number"]


def parse_date(text: str) -> date:
    """A date written YYYY-MM-DD (ValueError otherwise)."""
    return date.fromisoformat(text.strip())


def amount_check(currency: str, *, positive: bool = True,
                 at_most: Money | None = None) -> Callable[[str], str | None]:
    """A check that the text is an amount in `currency` (and within limits)."""

    def check(text: str) -> str | None:
        if not text.strip():
            return "type an amount"
        try:
            value = Money.parse(text, currency)
        except (ValueError, TypeError) as exc:
            return str(exc)
        if positive and value.amount <= 0:
            return "must be more than zero"
        if at_most is not None and value > at_most:
            return f"is more than {at_most}"
        return None

    return check


def date_check(*, not_after: date | None = None,
               not_before: date | None = None) -> Callable[[str], str | None]:
    """A check that the text is a YYYY-MM-DD date within bounds."""

    def check(text: str) -> str | None:
        try:
            day = parse_date(text)
        except ValueError:
            return "write the date as YYYY-MM-DD"
        if not_after is not None and day > not_after:
            return f"{day} is after {not_after}"
        if not_before is not None and day < not_before:
            return f"{day} is before {not_before}"
        return None

    return check


def required(label: str) -> Callable[[str], str | None]:
    """A check that the text is not empty."""
    return lambda text: None if text.strip() else f"say {label}"


def whole_number(low: int, high: int) -> Callable[[str], str | None]:
    """A check that the text is a whole number in [low, high]."""

    def check(text: str) -> str | None:
        if not text.strip().isdigit():
            return "type a whole number"
        value = int(text)
        return None if low <= value <= high else f"must be {low}–{high}"

    return check
