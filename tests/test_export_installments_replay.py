"""The integer replay behind the Installments sheet against `compose_dues` and `allocate` on
random schedules, reschedules and payments: fills, payoffs (exact, refused above), payments of
nothing, installments of nothing, and payments landing on a reschedule day."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from ledger.allocation import Due, Payment, allocate
from ledger.reports.installments import (
    MinorInstallment,
    NumberedDue,
    compose_minor,
    replay_minor,
)
from ledger.services.loan_book import compose_dues

START = date(2008, 1, 1)


def _schedule(rng: random.Random, start: date) -> list[NumberedDue]:
    out: list[NumberedDue] = []
    day = start
    for n in range(1, rng.randint(1, 8) + 1):
        day += timedelta(days=rng.choice((7, 14, 30, 31)))
        out.append((n, day, rng.choice((0, 0, 0, 500)), rng.choice((0, 0, 200)),
                    rng.choice((0, 1_000, 2_300)), rng.choice((0, 10_000, 12_345))))
    return out


def _due(d: NumberedDue) -> Due:
    return Due(d[0], d[1], *(Decimal(v) for v in (d[5], d[4], d[3], d[2])))


def _as_minor(states: object) -> list[MinorInstallment]:
    def split(p: object) -> tuple[int, int, int, int]:
        return (int(p.penalty), int(p.fee), int(p.interest), int(p.principal))  # type: ignore[attr-defined]
    return [MinorInstallment(i.number, i.due_date, split(i.due.parts), split(i.paid),
                             split(i.waived), i.fully_paid_on)
            for i in states.installments]  # type: ignore[attr-defined]


@pytest.mark.parametrize("seed", range(12))
def test_minor_replay_and_composition_match_the_decimal_ones(seed: int) -> None:
    rng = random.Random(seed)
    checked = 0
    for _ in range(250):
        versions = [(START, _schedule(rng, START))]
        last = versions[0][1][-1][1]
        for _ in range(rng.choice((0, 0, 1, 2))):
            on = START + timedelta(days=rng.randint(10, (last - START).days + 20))
            versions.append((on, _schedule(rng, on)))
        days = sorted(START + timedelta(days=rng.randint(1, 500)) for _ in range(rng.randint(0, 9)))
        # Some payments land on reschedule and due days, some pay nothing or the payoff.
        days = sorted(days + [v[0] for v in versions[1:] if rng.random() < 0.5])
        payments = [(d, rng.choice((0, 700, 5_000, 13_000, 40_000, 200_000))) for d in days]
        decimal_payments = tuple(Payment(n, d, Decimal(a)) for n, (d, a) in enumerate(payments))
        want_dues = compose_dues([(c, [_due(d) for d in v]) for c, v in versions],
                                 decimal_payments)
        dues = compose_minor(versions, payments)
        assert dues is not None
        assert [_due(d) for d in dues] == list(want_dues)
        want = _as_minor(allocate(want_dues, decimal_payments, strict=False))
        assert replay_minor(dues, payments) == want
        checked += len(want)
    assert checked > 1_000


def test_payoff_forgives_and_settles_every_open_installment() -> None:
    dues: list[NumberedDue] = [(1, date(2008, 2, 1), 0, 0, 1_000, 10_000),
                               (2, date(2008, 3, 1), 0, 0, 1_000, 10_000),
                               (3, date(2008, 4, 1), 0, 0, 1_000, 10_000)]
    # Paid on 15 February: installment 1 in full, then 2's interest and principal, 3's principal.
    got = replay_minor(dues, [(date(2008, 2, 15), 32_000), (date(2008, 3, 1), 5)])
    assert got is not None
    assert [i.paid for i in got] == [(0, 0, 1_000, 10_000), (0, 0, 1_000, 10_000),
                                     (0, 0, 0, 10_000)]
    assert [i.waived for i in got] == [(0, 0, 0, 0), (0, 0, 0, 0), (0, 0, 1_000, 0)]
    assert [i.fully_paid_on for i in got] == [date(2008, 2, 15)] * 3


def test_dues_allocate_refuses_are_left_to_it() -> None:
    day = date(2008, 2, 1)
    assert replay_minor([(1, day, 0, 0, 0, 100), (2, day, 0, 0, 0, 100)], []) is None
    assert replay_minor([(1, day, 0, 0, -1, 100)], []) is None
