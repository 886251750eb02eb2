"""The integer replay `fsf verify` uses for the portfolio check owes, and refuses, exactly what
`ledger.allocation.allocate` does."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.allocation import Due, Payment, allocate, payoff_amount
from ledger.verify_replay import outstanding_principal


@st.composite
def _replays(draw: st.DrawFn) -> tuple[list[tuple[date, int, int, int, int]], list[Payment]]:
    day = date(2020, 1, 1)
    dues = []
    for _ in range(draw(st.integers(0, 6))):
        day += timedelta(days=draw(st.sampled_from([1, 14, 30])))
        dues.append((day, draw(st.integers(0, 30)), draw(st.integers(0, 30)),
                     draw(st.integers(0, 200)), draw(st.integers(0, 500))))
    schedule = tuple(Due(n + 1, d, Decimal(p), Decimal(i), Decimal(f), Decimal(pen))
                     for n, (d, pen, f, i, p) in enumerate(dues))
    payments: list[Payment] = []
    paid_on = date(2019, 12, 20)
    for ref in range(draw(st.integers(0, 8))):
        paid_on += timedelta(days=draw(st.sampled_from([0, 1, 9, 31])))
        # The payoff amount (or one riel either side) half the time.
        if schedule and draw(st.booleans()):  # type: ignore[arg-type]
            state = allocate(schedule, payments, strict=False)
            amount = payoff_amount(state, paid_on) + draw(st.sampled_from([-1, 0, 0, 1]))
        else:
            amount = Decimal(draw(st.integers(-2, 1_500)))
        payments.append(Payment(ref + 1, paid_on, amount))
    return dues, payments


@settings(max_examples=300, deadline=None)
@given(_replays())
def test_the_integer_replay_owes_what_allocate_owes(
        case: tuple[list[tuple[date, int, int, int, int]], list[Payment]]) -> None:
    # The portfolio check trusts the integer replay only where it agrees with the books; this
    # holds it to `allocate` itself, payoffs and refusals included, dates as text or as dates.
    dues, payments = case
    schedule = [Due(n + 1, d, Decimal(p), Decimal(i), Decimal(f), Decimal(pen))
                for n, (d, pen, f, i, p) in enumerate(dues)]
    want = allocate(schedule, payments, strict=False).outstanding_principal
    ordered = sorted(payments, key=lambda p: (p.paid_on, p.ref))
    merged = [(d, pen + fee, interest, owed) for d, pen, fee, interest, owed in dues]
    assert outstanding_principal(merged, [(p.paid_on, int(p.amount)) for p in ordered]) == want
    as_text = [(d.isoformat(), charges, interest, owed) for d, charges, interest, owed in merged]
    assert outstanding_principal(as_text, [(p.paid_on.isoformat(), int(p.amount))
                                           for p in ordered]) == want


def test_the_integer_replay_refuses_what_allocate_refuses() -> None:
    day = date(2020, 1, 1)
    assert outstanding_principal([(day, 0, -1, 100)], []) is None
    assert outstanding_principal([(day, -1, 1, 100)], []) is None
    assert outstanding_principal([(day, 0, 1, 100), (day, 0, 1, 100)], []) is None
    assert outstanding_principal([], [(day, 100)]) == 0
