"""`ledger.allocation.Replay` in integer minor units, for bulk posting in the default order.

In installment-first order (penalty, fee, interest, principal of each installment, oldest
first) every payment below the payoff amount fills the schedule's slots front to back, so what
all of them paid is one running total and a payment's split by component is how far that total
moves through each component's slots (see `ledger.verify_replay`, which replays the same way).
Only a payment at or above the payoff amount on its date behaves otherwise: equal, it pays the
payoff claim (`ledger.allocation_book`'s rule) and forgives the rest, which settles the loan;
above, or not above zero, it is refused and changes nothing.

For amounts that are whole minor units this gives, payment by payment, exactly the split,
refusal, payoff and `settled` of `Replay(dues)` (tests compare the two on random schedules);
the callers convert amounts to minor units and back, so exponents never matter here.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import date
from itertools import accumulate
from operator import lt

from ledger.allocation_book import _ALL, _INTEREST_AND_PRINCIPAL, _claims

__all__ = ["MinorDue", "MinorReplay", "minor_dues_ok"]

# (due date, penalty, fee, interest, principal) of one installment, in minor units.
MinorDue = tuple[date, int, int, int, int]
Split = tuple[int, int, int, int]


def minor_dues_ok(dues: Sequence[MinorDue]) -> bool:
    """Whether `Replay` would take these dues (in installment order): no negative part, due
    dates strictly rising. Anything else goes through `Replay`, which names the problem."""
    if not dues:
        return True
    # Column by column, so that the loops run in C: bulk posting checks every loan's dues.
    days, penalties, fees, interest, principal = zip(*dues, strict=True)
    return (min(penalties) >= 0 and min(fees) >= 0 and min(interest) >= 0
            and min(principal) >= 0 and all(map(lt, days, days[1:])))


class MinorReplay:
    """Payments fed one at a time in replay order over dues that `minor_dues_ok` accepts;
    `split` gives what `Replay.split` gives, in minor units: the payment's (penalty, fee,
    interest, principal), or None when it is refused (then `payoff` is what was owed)."""

    __slots__ = ("_c", "_dues", "_ends", "_extra", "_i", "_now", "_principal", "_total",
                 "closed", "paid_total", "payoff")

    def __init__(self, dues: Sequence[MinorDue]) -> None:
        # Only what every replay needs is worked out here: bulk posting makes one per loan
        # and most take one fill and one split, which reach one or two installments.
        self._dues = dues
        # _ends[i]: where installment i ends in the running total.
        self._ends = list(accumulate([p + f + i + r for _, p, f, i, r in dues]))
        self._total = self._ends[-1] if dues else 0
        self._principal = sum([d[4] for d in dues])
        # A cursor: the component sums `_c` of the installments before `_i` (see `_before`).
        self._i = 0
        self._c: Split = (0, 0, 0, 0)
        self.paid_total = 0  # the running total of every fill
        self._now: Split = (0, 0, 0, 0)  # `_prefix(paid_total)`, kept up to date
        self._extra: Split | None = None  # what a payoff paid beyond the running total
        self.closed = False
        self.payoff = 0

    def _before(self, i: int) -> Split:
        # Component sums of the installments before i, moved from the cursor's last place:
        # the running total only grows, so over a replay this walks the schedule about once.
        j = self._i
        if j == i:
            return self._c
        c0, c1, c2, c3 = self._c
        dues = self._dues
        while j < i:
            _, p, f, n, r = dues[j]
            c0, c1, c2, c3, j = c0 + p, c1 + f, c2 + n, c3 + r, j + 1
        while j > i:
            j -= 1
            _, p, f, n, r = dues[j]
            c0, c1, c2, c3 = c0 - p, c1 - f, c2 - n, c3 - r
        self._i, self._c = j, (c0, c1, c2, c3)
        return self._c

    def _prefix(self, paid: int) -> Split:
        # Component sums of the slots the running total `paid` has filled.
        i = bisect_right(self._ends, paid)
        c = self._before(i)
        if i >= len(self._dues):
            return c
        _, p, f, n, _ = self._dues[i]
        # `paid` reaches into installment i (past its start, short of its end): it fills
        # its slots in order, the last it reaches in part, those after not at all.
        x = paid - (self._ends[i - 1] if i else 0)
        if x <= p:
            return (c[0] + x, c[1], c[2], c[3])
        x -= p
        if x <= f:
            return (c[0] + p, c[1] + x, c[2], c[3])
        x -= f
        if x <= n:
            return (c[0] + p, c[1] + f, c[2] + x, c[3])
        return (c[0] + p, c[1] + f, c[2] + n, c[3] + x - n)

    def _owing(self, i: int) -> Split:
        # What installment i still owes once the running total has filled what it reached.
        if self.closed:
            return (0, 0, 0, 0)
        paid = self.paid_total
        _, p, f, n, r = self._dues[i]
        start = self._ends[i - 1] if i else 0
        return (p - min(max(paid - start, 0), p), f - min(max(paid - start - p, 0), f),
                n - min(max(paid - start - p - f, 0), n),
                r - min(max(paid - start - p - f - n, 0), r))

    def _claim(self, day: date) -> Split:
        # The payoff claim on `day`, summed by component (`payoff_claim`'s rule).
        out = [0, 0, 0, 0]
        first = bisect_right(self._ends, self.paid_total)  # installments before owe nothing
        for i, claim in enumerate(_claims([d[0] for d in self._dues], day)):
            if i < first:
                continue
            o = self._owing(i)
            if claim == _ALL:
                out[0] += o[0]
                out[1] += o[1]
            if claim in (_ALL, _INTEREST_AND_PRINCIPAL):
                out[2] += o[2]
            out[3] += o[3]
        return (out[0], out[1], out[2], out[3])

    def feed(self, payments: Sequence[tuple[date, int]]) -> None:
        """`split` each of the payments (paid on, amount), in replay order, keeping nothing
        of their splits (`fill_all` first: the usual case)."""
        if not payments:
            return
        amounts = [amount for _, amount in payments]
        if self.fill_all(sum(amounts), min(amounts), max(amounts)):
            return
        for day, amount in payments:
            self.split(day, amount)

    def fill_all(self, total: int, low: int, high: int) -> bool:
        """Take payments summing to `total`, the smallest `low` and the largest `high`, as
        `feed` would, when that needs nothing more of them; else change nothing, say False.
        When every one is above zero and below the principal still owed after all of them,
        each was below the principal owed when it came (that only falls as payments fill):
        all are plain fills, and only their sum moves the running total."""
        if self.closed or low <= 0:
            return False
        after = self._prefix(self.paid_total + total)
        if high >= self._principal - after[3]:
            return False
        self.paid_total += total
        self._now = after
        return True

    def split(self, day: date, amount: int) -> Split | None:
        """The next payment (in replay order): its split, or None when refused."""
        if amount > 0 and not self.closed:
            # Below the principal still owed: a plain fill (`_fill`, written out here: this
            # is the path of nearly every payment).
            before = self._now
            if amount < self._principal - before[3]:
                self.paid_total += amount
                after = self._now = self._prefix(self.paid_total)
                return (after[0] - before[0], after[1] - before[1], after[2] - before[2],
                        after[3] - before[3])
        claim = self._claim(day)
        payoff = claim[0] + claim[1] + claim[2] + claim[3]
        if amount > 0 and amount < payoff:
            return self._fill(amount)
        if not amount > 0 or amount > payoff:
            self.payoff = payoff
            return None
        # The payoff: pays the claim, forgives the rest; nothing is owed after it.
        before = self._now
        self._extra = (claim[0] + before[0], claim[1] + before[1], claim[2] + before[2],
                       claim[3] + before[3])
        self.closed = True
        return claim

    def _fill(self, amount: int) -> Split:
        before = self._now
        self.paid_total += amount
        after = self._now = self._prefix(self.paid_total)
        return (after[0] - before[0], after[1] - before[1], after[2] - before[2],
                after[3] - before[3])

    @property
    def paid(self) -> Split:
        """Everything the accepted payments paid so far, by component."""
        return self._extra if self._extra is not None else self._now

    @property
    def settled(self) -> bool:
        """True once nothing more is owed (paid or forgiven by a payoff)."""
        return self.closed or self.paid_total == self._total
