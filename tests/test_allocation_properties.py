"""Invariants of allocation and arrears over random schedules and payments (Hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.allocation import (
    COMPONENT_FIRST,
    COMPONENTS,
    DEFAULT_ORDER,
    AllocationOrder,
    Due,
    LoanState,
    Payment,
    allocate,
    payoff_amount,
)
from ledger.arrears import ageing_bucket, arrears_as_of

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ZERO = Decimal(0)
START = date(2024, 1, 1)


@st.composite
def loans(draw: st.DrawFn) -> tuple[tuple[Due, ...], list[Payment], int]:
    """A schedule of 1-6 installments and up to 7 payments; amounts in riel or in cents."""
    digits = draw(st.sampled_from([0, 2]))

    def amount(high: int) -> Decimal:
        return Decimal(draw(st.integers(0, high * 10**digits))).scaleb(-digits)

    dues, day = [], START
    for number in range(1, draw(st.integers(1, 6)) + 1):
        day += timedelta(days=draw(st.integers(1, 45)))
        fee = amount(800) if draw(st.booleans()) else ZERO
        penalty = amount(2_000) if draw(st.integers(0, 3)) == 0 else ZERO
        dues.append(Due(number, day, amount(200_000), amount(6_000), fee, penalty))
    last = (day - START).days
    payments = []
    for ref in range(draw(st.integers(0, 7))):
        paid_on = START + timedelta(days=draw(st.integers(0, last + 60)))
        value = amount(250_000)
        # Mixed refs exercise the tie-break between int and text refs.
        payments.append(Payment(ref if ref % 3 else f"r{ref}", paid_on, value))
    return tuple(dues), payments, last


orders = st.sampled_from(
    [DEFAULT_ORDER, COMPONENT_FIRST, AllocationOrder(("interest", "principal", "penalty", "fee"))]
)


@SETTINGS
@given(loans(), orders)
def test_allocation_never_exceeds_what_is_due(loan: tuple, order: AllocationOrder) -> None:
    dues, payments, _ = loan
    state = allocate(dues, payments, order=order, strict=False)
    for inst in state.installments:
        for c in COMPONENTS:
            paid, waived = inst.paid.get(c), inst.waived.get(c)
            assert paid >= 0 and waived >= 0
            assert paid + waived <= inst.due.parts.get(c)
        assert (inst.fully_paid_on is not None) == (
            inst.outstanding.total == 0 and inst.due.parts.total > 0
        )
    for allocation in state.allocations:
        for share in allocation.shares:
            assert all(share.parts.get(c) >= 0 for c in COMPONENTS)
        assert allocation.parts.total == allocation.payment.amount


@SETTINGS
@given(loans(), orders)
def test_allocated_sums_equal_accepted_payments(loan: tuple, order: AllocationOrder) -> None:
    dues, payments, _ = loan
    state = allocate(dues, payments, order=order, strict=False)
    accepted = sum((a.payment.amount for a in state.allocations), ZERO)
    assert state.paid.total == accepted
    assert sum((a.parts.total for a in state.allocations), ZERO) == accepted
    seen = [a.payment for a in state.allocations] + [r.payment for r in state.refused]
    assert sorted(map(repr, seen)) == sorted(map(repr, payments))
    for refusal in state.refused:
        if refusal.payment.amount > 0:
            assert refusal.payment.amount > refusal.payoff
            assert f"{refusal.payoff:,}" in refusal.reason


@SETTINGS
@given(loans(), orders, st.data())
def test_reversal_equals_never_having_had_the_payment(
    loan: tuple, order: AllocationOrder, data: st.DataObject
) -> None:
    dues, payments, _ = loan
    if not payments:
        return
    gone = data.draw(st.sampled_from(payments))
    others = [p for p in payments if p is not gone]
    state = allocate(dues, payments, order=order, strict=False)
    never = allocate(dues, others, order=order, strict=False)
    assert state.without(gone.ref, strict=False) == never
    # Recording it again (back-dated or not) restores the original replay.
    assert never.with_payment(gone, strict=False) == state


@SETTINGS
@given(loans(), orders)
def test_outstanding_principal_is_principal_less_allocated_principal(
    loan: tuple, order: AllocationOrder
) -> None:
    dues, payments, _ = loan
    state = allocate(dues, payments, order=order, strict=False)
    scheduled = sum((d.principal for d in dues), ZERO)
    allocated = sum((a.parts.principal for a in state.allocations), ZERO)
    assert state.outstanding_principal == scheduled - allocated
    assert state.outstanding_principal >= 0


@SETTINGS
@given(loans(), orders, st.integers(0, 90))
def test_paying_the_payoff_leaves_nothing(loan: tuple, order: AllocationOrder, extra: int) -> None:
    dues, payments, _ = loan
    state = allocate(dues, payments, order=order, strict=False)
    latest = max([p.paid_on for p in payments], default=START)
    day = latest + timedelta(days=extra)
    payoff = payoff_amount(state, day)
    assert payoff >= 0
    assert payoff <= state.outstanding.total
    assert payoff >= state.outstanding_principal
    # New refs sort after every same-day ref ("zz-"), so they replay last, as a new id would.
    if payoff == 0:
        assert state.with_payment(Payment("zz-one", day, Decimal(1)), strict=False).refused[-1]
        return
    above = state.with_payment(Payment("zz-above", day, payoff + Decimal("0.01")), strict=False)
    assert (above.refused[-1].payment.ref, above.refused[-1].payoff) == ("zz-above", payoff)
    # Non-strict: payments refused before stay refused in the replay after this one.
    closed = state.with_payment(Payment("zz-payoff", day, payoff), strict=False)
    assert [a.payment.ref for a in closed.allocations if a.payoff][-1] == "zz-payoff"
    assert payoff_amount(closed, day) == 0
    assert payoff_amount(closed, day + timedelta(days=400)) == 0
    assert closed.outstanding.total == 0
    assert closed.closed_on == day
    assert all(i.fully_paid_on is not None for i in closed.installments if i.due.parts.total)


@SETTINGS
@given(loans(), orders, st.integers(-5, 300))
def test_state_as_of_a_day_equals_replaying_only_the_payments_up_to_it(
    loan: tuple, order: AllocationOrder, offset: int
) -> None:
    dues, payments, _ = loan
    day = START + timedelta(days=offset)
    full = allocate(dues, payments, order=order, strict=False)
    assert full.until(day) == allocate(dues, payments, order=order, as_of=day, strict=False)


def _fill(slots: list[Decimal], total: Decimal) -> list[Decimal]:
    # Greedy fill of capacities in order: the independent oracle for installment-first order.
    out = []
    for capacity in slots:
        take = min(capacity, total)
        out.append(take)
        total -= take
    return out


@SETTINGS
@given(loans())
def test_installment_first_equals_filling_the_schedule_with_the_total_paid(loan: tuple) -> None:
    dues, payments, _ = loan
    state = allocate(dues, payments, strict=False)
    if any(a.payoff for a in state.allocations):
        return  # a payoff also waives, which the simple fill does not model
    slots = [d.parts.get(c) for d in sorted(dues, key=lambda d: d.number) for c in COMPONENTS]
    expected = _fill(slots, state.paid.total)
    got = [i.paid.get(c) for i in state.installments for c in COMPONENTS]
    assert got == expected


@SETTINGS
@given(loans(), st.integers(0, 400))
def test_arrears_are_consistent(loan: tuple, offset: int) -> None:
    dues, payments, _ = loan
    state: LoanState = allocate(dues, payments, strict=False)
    day = START + timedelta(days=offset)
    arrears = arrears_as_of(state, day)
    then = state.until(day)
    assert arrears.outstanding_principal == then.outstanding_principal
    assert 0 <= arrears.overdue_amount <= then.outstanding.total
    assert (arrears.days_overdue == 0) == (arrears.overdue_amount == 0)
    assert arrears.bucket == ageing_bucket(arrears.days_overdue)
    unpaid_past = [d.due_date for d, i in zip(dues, then.installments, strict=True)
                   if d.due_date < day and i.outstanding.total > 0]
    if unpaid_past:
        assert arrears.days_overdue == (day - min(unpaid_past)).days
