"""Bulk posting's integer paths give exactly what the Decimal ones give.

- `MinorReplay` (and its `feed` of standing payments) against `Replay`, payment by payment, on
  random schedules in whole minor units, with payoffs, refusals and payments after a close.
- The entry text `ChainWriter` hashes against `EntryContent.canonical`, byte for byte.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.allocation import Due, Payment, Refusal, Replay, allocate, payoff_amount
from ledger.allocation_minor import MinorReplay, minor_dues_ok
from ledger.chain import EntryContent, PostingContent, entry_hash, iso_utc
from ledger.services.bulk_chain import _hashed_text

START = date(2024, 1, 1)


@st.composite
def loans(draw: st.DrawFn) -> tuple[list[Due], list[tuple[date, str, int]]]:
    """1-8 installments in whole minor units, and up to 12 payments as (paid on, kind, amount):
    kind "payoff" pays exactly the payoff amount of its day, "over" one more than it."""
    dues, day = [], START
    for number in range(1, draw(st.integers(1, 8)) + 1):
        day += timedelta(days=draw(st.integers(1, 45)))
        dues.append(Due(number, day, Decimal(draw(st.integers(0, 200_000))),
                        Decimal(draw(st.integers(0, 6_000))),
                        Decimal(draw(st.sampled_from([0, 0, 500, draw(st.integers(0, 900))]))),
                        Decimal(draw(st.sampled_from([0, 0, 0, draw(st.integers(0, 3000))])))))
    days = sorted(START + timedelta(days=draw(st.integers(0, (day - START).days + 60)))
                  for _ in range(draw(st.integers(0, 12))))
    payments = [(d, draw(st.sampled_from(["plain", "plain", "plain", "payoff", "over"])),
                 draw(st.one_of(st.integers(-5, 0), st.integers(1, 60_000),
                                st.integers(1, 400_000)))) for d in days]
    return dues, payments


def _minor(due: Due) -> tuple[date, int, int, int, int]:
    return (due.due_date, int(due.penalty), int(due.fee), int(due.interest), int(due.principal))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(loans(), st.integers(0, 12))
def test_minor_replay_equals_replay(loan: tuple[list[Due], list[tuple[date, str, int]]],
                                    standing: int) -> None:
    dues, plan = loan
    minor_dues = [_minor(d) for d in dues]
    assert minor_dues_ok(minor_dues)
    exact, fast = Replay(dues), MinorReplay(minor_dues)
    done: list[Payment] = []
    fed: list[tuple[date, int]] = []
    splits = []
    for ref, (day, kind, amount) in enumerate(plan, start=1):
        if kind != "plain":
            owed = int(payoff_amount(allocate(dues, done, strict=False), day))
            amount = owed + (kind == "over")
        fed.append((day, amount))
        p = Payment(ref, day, Decimal(amount))
        want = exact.split(p)
        got = fast.split(day, amount)
        splits.append(got)
        if isinstance(want, Refusal):
            assert got is None
            assert fast.payoff == int(want.payoff)
        else:
            assert got == (int(want.penalty), int(want.fee), int(want.interest),
                           int(want.principal))
            done.append(p)
        assert fast.settled == exact.settled
        assert fast.paid == tuple(int(v) for v in (exact.paid.penalty, exact.paid.fee,
                                                   exact.paid.interest, exact.paid.principal))
    # Standing payments fed at once, then the rest one by one: the same splits and state.
    cut = min(standing, len(fed))
    resumed = MinorReplay(minor_dues)
    resumed.feed(fed[:cut])
    assert [resumed.split(d, a) for d, a in fed[cut:]] == splits[cut:]
    assert resumed.paid == fast.paid
    assert resumed.settled == fast.settled


def test_minor_dues_ok_refuses_what_replay_refuses() -> None:
    day = date(2024, 2, 1)
    assert minor_dues_ok([(day, 0, 0, 10, 100), (day + timedelta(days=1), 0, 0, 0, 0)])
    assert not minor_dues_ok([(day, 0, 0, 10, 100), (day, 0, 0, 10, 100)])
    assert not minor_dues_ok([(day, 0, -1, 10, 100)])


def test_feed_takes_the_short_way_only_when_every_payment_is_a_fill() -> None:
    day = date(2024, 2, 1)
    dues = [(day, 0, 0, 100, 1000), (day + timedelta(days=30), 0, 0, 100, 1000)]
    fed = MinorReplay(dues)
    fed.feed([(day, 600), (day, 500)])
    assert fed.paid == (0, 0, 100, 1000) and not fed.settled
    # On the first due date the payoff is the second installment's principal: the second
    # payment pays it and closes the loan (its interest forgiven); the third is refused.
    closing = MinorReplay(dues)
    closing.feed([(day, 1100), (day, 1000), (day, 5)])
    assert closing.settled and closing.paid == (0, 0, 100, 2000)
    assert closing.split(day, 1) is None and closing.payoff == 0


NAMES = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 10**9), NAMES, NAMES, NAMES, st.one_of(st.none(), st.integers(-3, 10**7)),
       st.lists(st.tuples(st.sampled_from(["1101", "4101", "1201", 'q"\\', "ក"]),
                          st.integers(-10**12, 10**12).filter(bool),
                          st.one_of(st.none(), st.integers(-2, 10**6)),
                          st.sampled_from([None, "interest", "principal", "fee", "penalty"])),
                min_size=1, max_size=5),
       st.datetimes(timezones=st.just(UTC)), st.sampled_from(["KHR", "USD"]))
def test_chain_text_is_the_canonical_text(
        seq: int, kind: str, memo: str, by: str, loan_id: int | None,
        lines: list[tuple[str, int, int | None, str | None]], at: datetime,
        currency: str) -> None:
    occurred = date(2010, 6, 30)
    content = EntryContent(seq=seq, kind=kind, occurred_on=occurred, memo=memo, created_by=by,
                           created_at=at, loan_id=loan_id, reverses_seq=None,
                           postings=tuple(PostingContent(code, currency, amount, lid, comp)
                                          for code, amount, lid, comp in lines))
    prev = "ab" * 32
    text = _hashed_text(prev, seq, kind, occurred, memo, by, iso_utc(at), loan_id, currency,
                        [(n, code, amount, lid, comp)
                         for n, (code, amount, lid, comp) in enumerate(lines)])
    assert text.encode() == prev.encode() + b"\n" + content.canonical()
    assert hashlib.sha256(text.encode()).hexdigest() == entry_hash(prev, content)
