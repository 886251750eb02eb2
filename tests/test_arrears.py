"""Arrears "as of" a day on the hand-worked three-installment riel loan (see test_allocation)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ledger.allocation import Due, Parts, Payment, allocate
from ledger.arrears import Bucket, ageing_bucket, arrears_as_of, par_flag

D = Decimal
DUES = (
    Due(1, date(2024, 2, 1), D(100_000), D(3_000)),
    Due(2, date(2024, 3, 1), D(100_000), D(2_000)),
    Due(3, date(2024, 4, 1), D(100_000), D(1_000)),
)
UNPAID = allocate(DUES, [])


def test_due_today_is_not_overdue_and_tomorrow_is_one_day() -> None:
    today = arrears_as_of(UNPAID, date(2024, 2, 1))
    assert today.days_overdue == 0
    assert today.bucket is Bucket.CURRENT
    assert today.overdue_amount == 0
    assert today.interest_due == D(3_000)  # due today, not yet overdue
    assert (today.next_due_date, today.next_due_amount) == (date(2024, 2, 1), D(103_000))
    tomorrow = arrears_as_of(UNPAID, date(2024, 2, 2))
    assert tomorrow.days_overdue == 1
    assert tomorrow.overdue_since == date(2024, 2, 1)
    assert tomorrow.bucket is Bucket.DAYS_1_30
    assert tomorrow.overdue == Parts(interest=D(3_000), principal=D(100_000))
    assert (tomorrow.next_due_date, tomorrow.next_due_amount) == (date(2024, 3, 1), D(102_000))


def test_exactly_thirty_days_is_in_par30_with_ge_but_not_with_gt() -> None:
    # 2024 is a leap year: 1 February + 30 days = 2 March.
    at_30 = arrears_as_of(UNPAID, date(2024, 3, 2))
    assert at_30.days_overdue == 30
    assert at_30.in_par()
    assert not at_30.in_par(boundary=">")
    assert par_flag(30) and not par_flag(30, boundary=">")
    assert at_30.overdue_installments == 2  # installment 2 is one day late too
    assert at_30.overdue_amount == D(205_000)
    at_29 = arrears_as_of(UNPAID, date(2024, 3, 1))
    assert at_29.days_overdue == 29
    assert not at_29.in_par()
    assert arrears_as_of(UNPAID, date(2024, 3, 3)).in_par(boundary=">")


def test_par_flag_thresholds_and_bad_boundary() -> None:
    assert par_flag(90, threshold=90)
    assert not par_flag(89, threshold=90)
    assert not par_flag(0, threshold=0, boundary=">")
    with pytest.raises(ValueError, match="boundary"):
        par_flag(5, boundary="=>")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (0, "current"),
        (1, "1–30"),
        (30, "1–30"),
        (31, "31–60"),
        (60, "31–60"),
        (61, "61–90"),
        (90, "61–90"),
        (91, "91–180"),
        (180, "91–180"),
        (181, "181–365"),
        (365, "181–365"),
        (366, "over 365"),
        (4000, "over 365"),
    ],
)
def test_ageing_bucket_edges(days: int, bucket: str) -> None:
    assert ageing_bucket(days) == bucket


def test_negative_days_are_an_error() -> None:
    with pytest.raises(ValueError):
        ageing_bucket(-1)


def test_partial_payment_keeps_the_installment_overdue_from_its_due_date() -> None:
    state = allocate(DUES, [Payment(1, date(2024, 2, 10), D(50_000))])
    arrears = arrears_as_of(state, date(2024, 2, 20))
    assert arrears.days_overdue == 19
    assert arrears.overdue == Parts(principal=D(53_000))
    assert arrears.interest_due == 0
    assert arrears.outstanding_principal == D(253_000)


def test_payments_after_as_of_are_ignored() -> None:
    state = allocate(DUES, [Payment(1, date(2024, 2, 20), D(103_000))])
    before = arrears_as_of(state, date(2024, 2, 19))
    assert before.days_overdue == 18
    assert before.outstanding_principal == D(300_000)
    assert before.interest_due == D(3_000)
    after = arrears_as_of(state, date(2024, 2, 20))
    assert after.days_overdue == 0
    assert after.bucket is Bucket.CURRENT
    assert after.overdue_since is None
    assert after.interest_due == 0
    assert after.outstanding_principal == D(200_000)


def test_oldest_unpaid_installment_sets_the_days() -> None:
    # Installment 1 paid late; installment 2 unpaid: days count from 1 March only.
    state = allocate(DUES, [Payment(1, date(2024, 3, 10), D(103_000))])
    arrears = arrears_as_of(state, date(2024, 3, 20))
    assert arrears.days_overdue == 19
    assert arrears.overdue_since == date(2024, 3, 1)
    assert arrears.overdue_installments == 1


def test_prepaid_installments_are_skipped_for_the_next_due() -> None:
    state = allocate(DUES, [Payment(1, date(2024, 1, 15), D(256_000))])
    arrears = arrears_as_of(state, date(2024, 1, 20))
    assert (arrears.next_due_date, arrears.next_due_amount) == (date(2024, 4, 1), D(50_000))
    late = arrears_as_of(state, date(2024, 4, 2))
    assert late.days_overdue == 1
    assert late.overdue == Parts(principal=D(50_000))


def test_closed_loan_owes_nothing() -> None:
    state = allocate(DUES, [Payment(1, date(2024, 2, 15), D(305_000))])
    arrears = arrears_as_of(state, date(2024, 12, 31))
    assert arrears.outstanding_principal == 0
    assert arrears.overdue_amount == 0
    assert arrears.days_overdue == 0
    assert arrears.next_due_date is None
    assert arrears.next_due_amount == 0
