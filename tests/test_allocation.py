"""Hand-worked allocation cases on a small riel loan whose numbers can be checked by eye.

The loan: 300,000 riel at 1 % a month on the declining balance, three monthly installments of
100,000 principal; interest is 1 % of the balance before each: 3,000, 2,000, 1,000.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledger.allocation import (
    COMPONENT_FIRST,
    AllocationError,
    AllocationOrder,
    Due,
    Parts,
    Payment,
    PaymentRefused,
    allocate,
    payment_problems,
    payoff_amount,
)
from ledger.loan_terms import Installment

D = Decimal
DUES = (
    Due(1, date(2024, 2, 1), D(100_000), D(3_000)),
    Due(2, date(2024, 3, 1), D(100_000), D(2_000)),
    Due(3, date(2024, 4, 1), D(100_000), D(1_000)),
)


def pay(ref: int | str, day: date, amount: int) -> Payment:
    return Payment(ref, day, D(amount))


def paid(state_installment: object) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    p = state_installment.paid  # type: ignore[attr-defined]
    return (p.penalty, p.fee, p.interest, p.principal)


def test_partial_payment_covers_interest_then_part_of_principal() -> None:
    state = allocate(DUES, [pay(1, date(2024, 2, 1), 50_000)])
    first, second, _ = state.installments
    assert first.paid == Parts(interest=D(3_000), principal=D(47_000))
    assert first.outstanding.total == D(53_000)
    assert first.fully_paid_on is None
    assert second.paid == Parts()
    assert state.outstanding_principal == D(253_000)
    (allocation,) = state.allocations
    assert allocation.parts == Parts(interest=D(3_000), principal=D(47_000))
    assert [s.number for s in allocation.shares] == [1]


def test_payment_on_the_due_date_is_on_time_and_a_late_one_is_not() -> None:
    on_time = allocate(DUES, [pay(1, date(2024, 2, 1), 103_000)])
    late = allocate(DUES, [pay(1, date(2024, 2, 20), 103_000)])
    assert on_time.installments[0].fully_paid_on == date(2024, 2, 1)
    assert on_time.installments[0].paid_on_time
    assert late.installments[0].fully_paid_on == date(2024, 2, 20)
    assert not late.installments[0].paid_on_time
    assert late.installments[0].outstanding.total == 0
    assert late.installments[1].paid == Parts()


def test_early_payment_covers_two_and_a_half_installments_oldest_first() -> None:
    # 103,000 + 102,000 + interest 1,000 + half the last principal 50,000 = 256,000.
    day = date(2024, 1, 15)
    assert payoff_amount(allocate(DUES, []), day) == D(303_000)  # principal + Jan's interest
    state = allocate(DUES, [pay(1, day, 256_000)])
    assert [i.paid for i in state.installments] == [
        Parts(interest=D(3_000), principal=D(100_000)),
        Parts(interest=D(2_000), principal=D(100_000)),
        Parts(interest=D(1_000), principal=D(50_000)),
    ]
    assert [i.fully_paid_on for i in state.installments] == [day, day, None]
    assert state.outstanding_principal == D(50_000)
    assert payoff_amount(state, day) == D(50_000)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2024, 1, 10), 303_000),  # all principal + the first period's interest
        (date(2024, 2, 15), 305_000),  # 103,000 due + 2,000 current interest + 200,000
        (date(2024, 3, 1), 305_000),  # installment 2 due today; its period ends today
        (date(2024, 3, 2), 306_000),  # the third period has begun
        (date(2024, 6, 1), 306_000),  # everything due
    ],
)
def test_payoff_amount_by_date(day: date, expected: int) -> None:
    assert payoff_amount(allocate(DUES, []), day) == D(expected)


def test_payment_equal_to_the_payoff_closes_the_loan_and_waives_future_interest() -> None:
    day = date(2024, 2, 15)
    state = allocate(DUES, [pay(1, day, 305_000)])
    (allocation,) = state.allocations
    assert allocation.payoff
    assert allocation.parts.total == D(305_000)
    assert [(w.number, w.parts) for w in allocation.waived] == [(3, Parts(interest=D(1_000)))]
    assert state.installments[2].paid == Parts(principal=D(100_000))
    assert all(i.outstanding.total == 0 for i in state.installments)
    assert [i.fully_paid_on for i in state.installments] == [day, day, day]
    assert state.closed_on == day
    assert payoff_amount(state, day) == 0
    assert payoff_amount(state, date(2024, 9, 1)) == 0


def test_payment_above_the_payoff_is_refused_naming_the_payoff() -> None:
    too_much = pay(7, date(2024, 2, 15), 305_001)
    with pytest.raises(PaymentRefused, match="305,000") as caught:
        allocate(DUES, [too_much])
    assert caught.value.payoff == D(305_000)
    state = allocate(DUES, [too_much], strict=False)
    assert state.allocations == ()
    assert [(r.payment, r.payoff) for r in state.refused] == [(too_much, D(305_000))]
    assert state.outstanding_principal == D(300_000)
    assert payment_problems(allocate(DUES, []), too_much)[0].count("305,000") == 2


def test_nothing_can_be_paid_after_the_loan_is_closed() -> None:
    state = allocate(DUES, [pay(1, date(2024, 2, 15), 305_000)])
    problems = payment_problems(state, pay(2, date(2024, 2, 16), 1))
    assert len(problems) == 1
    assert "payoff amount of 0" in problems[0]


def test_zero_payment_is_refused() -> None:
    with pytest.raises(PaymentRefused, match="more than zero"):
        allocate(DUES, [pay(1, date(2024, 2, 1), 0)])


def test_reversal_replays_later_payments_as_if_the_payment_never_was() -> None:
    a = pay(1, date(2024, 2, 1), 103_000)
    b = pay(2, date(2024, 3, 5), 50_000)
    c = pay(3, date(2024, 3, 20), 60_000)
    full = allocate(DUES, [c, a, b])  # order of the list does not matter, dates do
    assert [x.payment.ref for x in full.allocations] == [1, 2, 3]
    assert [paid(i) for i in full.installments] == [
        (0, 0, 3_000, 100_000),
        (0, 0, 2_000, 100_000),  # b: 2,000 + 48,000; c: the other 52,000
        (0, 0, 1_000, 7_000),  # c: 60,000 - 52,000 - 1,000
    ]
    reversed_a = full.without(1)
    assert reversed_a == allocate(DUES, [b, c])
    # Without a, b goes to installment 1 (3,000 + 47,000), c finishes it (53,000) and pays
    # installment 2's interest (2,000) and 5,000 of its principal.
    assert [paid(i) for i in reversed_a.installments] == [
        (0, 0, 3_000, 100_000),
        (0, 0, 2_000, 5_000),
        (0, 0, 0, 0),
    ]
    assert reversed_a.installments[0].fully_paid_on == date(2024, 3, 20)
    assert reversed_a.with_payment(a) == full
    with pytest.raises(AllocationError, match="no payment"):
        full.without(99)
    with pytest.raises(AllocationError, match="already recorded"):
        full.with_payment(a)


def test_penalties_then_fees_then_interest_then_principal() -> None:
    dues = (Due(1, date(2024, 2, 1), D(100_000), D(3_000), fee=D(500), penalty=D(1_000)),)
    state = allocate(dues, [pay(1, date(2024, 2, 10), 1_200)])
    assert state.installments[0].paid == Parts(penalty=D(1_000), fee=D(200))
    other = AllocationOrder(components=("interest", "principal", "penalty", "fee"))
    state = allocate(dues, [pay(1, date(2024, 2, 10), 4_000)], order=other)
    assert state.installments[0].paid == Parts(interest=D(3_000), principal=D(1_000))


def test_installment_first_versus_component_first() -> None:
    # On 15 March installments 1 and 2 are both overdue.
    day = date(2024, 3, 15)
    by_installment = allocate(DUES, [pay(1, day, 50_000)])
    assert [paid(i) for i in by_installment.installments][:2] == [
        (0, 0, 3_000, 47_000),
        (0, 0, 0, 0),
    ]
    by_component = allocate(DUES, [pay(1, day, 50_000)], order=COMPONENT_FIRST)
    assert [paid(i) for i in by_component.installments][:2] == [
        (0, 0, 3_000, 45_000),  # both interests first (3,000 + 2,000), then oldest principal
        (0, 0, 2_000, 0),
    ]
    # Beyond what is due, component-first pays the future installment as a whole.
    more = allocate(DUES, [pay(1, day, 210_000)], order=COMPONENT_FIRST)
    assert paid(more.installments[2]) == (0, 0, 1_000, 4_000)


def test_allocation_order_must_name_every_component_once() -> None:
    with pytest.raises(AllocationError):
        AllocationOrder(components=("interest", "principal", "fee"))  # type: ignore[arg-type]
    with pytest.raises(AllocationError):
        AllocationOrder(components=("interest", "interest", "fee", "penalty"))


def test_same_day_payments_replay_by_ref_even_with_mixed_refs() -> None:
    day = date(2024, 2, 1)
    state = allocate(DUES, [pay("b", day, 1_000), pay(2, day, 1_000), pay("a", day, 1_000)])
    assert [a.payment.ref for a in state.allocations] == [2, "a", "b"]
    assert state.installments[0].paid == Parts(interest=D(3_000))


def test_as_of_leaves_later_payments_out() -> None:
    payments = [pay(1, date(2024, 2, 1), 103_000), pay(2, date(2024, 3, 2), 102_000)]
    cut = allocate(DUES, payments, as_of=date(2024, 3, 1))
    assert [a.payment.ref for a in cut.allocations] == [1]
    assert cut == allocate(DUES, payments).until(date(2024, 3, 1))
    assert allocate(DUES, payments, as_of=date(2024, 3, 2)).outstanding_principal == 100_000
    with pytest.raises(AllocationError, match="only knows payments up to"):
        cut.until(date(2024, 3, 2))


def test_floats_are_refused_at_the_door() -> None:
    with pytest.raises(TypeError):
        Due(1, date(2024, 2, 1), 100_000.0, D(3_000))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Payment(1, date(2024, 2, 1), 10.5)  # type: ignore[arg-type]


def test_bad_dues_and_payments_list_every_problem() -> None:
    dues = (
        Due(1, date(2024, 2, 1), D(-5), D(3_000)),
        Due(2, date(2024, 2, 1), D(100), D(0)),
        Due(2, date(2024, 3, 1), D(100), D(0)),
    )
    with pytest.raises(AllocationError) as caught:
        allocate(dues, [pay(1, date(2024, 2, 1), 5), pay(1, date(2024, 2, 2), 5)])
    text = str(caught.value)
    assert len(caught.value.problems) >= 4
    assert "principal -5" in text
    assert "unique" in text
    assert "must fall due after" in text
    assert "payment refs must be unique" in text


def test_due_from_a_schedule_installment() -> None:
    inst = Installment(1, date(2024, 2, 1), D(100_000), D(3_000), D(200_000), fee=D(500))
    assert Due.from_installment(inst) == Due(1, date(2024, 2, 1), D(100_000), D(3_000), D(500))


def test_nothing_due_installment_never_counts_as_paid() -> None:
    dues = (Due(1, date(2024, 2, 1), D(0), D(0)), Due(2, date(2024, 3, 1), D(1_000), D(10)))
    state = allocate(dues, [pay(1, date(2024, 2, 15), 1_010)])
    assert [i.fully_paid_on for i in state.installments] == [None, date(2024, 2, 15)]
