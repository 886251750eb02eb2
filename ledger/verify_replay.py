"""Outstanding principal after a replay, in integer minor units, for `fsf verify`.

The same answer as `ledger.allocation.allocate(dues, payments, strict=False)` in the default
order (installment first: penalty, fee, interest, principal), without building its states.
In that order a payment fills the schedule's slots front to back, so everything paid is one
running total `paid`, and what a slot still owes is how far the total falls short of its end.
Only a payment at or above the payoff amount on its date behaves otherwise: equal, it closes
the loan (nothing is owed after it, later payments are refused); above, it is refused. The
payoff claim (`ledger.allocation.payoff_claim`) is computed from `paid` in O(log n), and only
for payments that reach the principal still owed, below which no payoff can be.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from itertools import accumulate
from operator import add
from typing import Any

__all__ = ["outstanding_principal"]


def outstanding_principal(dues: Sequence[tuple[Any, int, int, int]],
                          payments: Iterable[tuple[Any, int]]) -> int | None:
    """Principal still owed after `payments` (paid on, amount), in replay order (date, then
    id), over `dues` (due date, penalty + fee, interest, principal) in installment order.
    Penalty and fee come as one sum: a payment fills them one after the other before the
    interest, and a payoff claims both or neither, so only their sum matters (a caller with
    a negative one passes a negative sum). Dates are `date`s or ISO texts, compared as such.
    None when the dues cannot be replayed (a negative part, or a due date not after the one
    before), which `allocate` refuses."""
    if not dues:
        return 0
    dates, charges, interests, principal = zip(*dues, strict=True)
    try:
        if min(charges + interests + principal) < 0 or tuple(sorted(set(dates))) != dates:
            return None
    except TypeError:  # a NULL or a value of another type where a date or amount belongs
        return None
    # ends[i]: where installment i's last slot (its principal) ends in the running total;
    # tail[i]: interest + principal, what a payoff claims of the installment running;
    # later[i]: the principal of installments i, i + 1, ...
    tail = list(map(add, interests, principal))
    ends = list(accumulate(map(add, charges, tail)))
    later = list(accumulate(reversed(principal)))[::-1]
    later.append(0)
    n = len(ends)

    def principal_from(k: int, paid: int) -> int:
        # Principal owed on installments k.. once `paid` has filled the slots before it.
        m = max(k, bisect_right(ends, paid))
        if m >= n:
            return 0
        return int(later[m + 1] + min(principal[m], max(0, ends[m] - paid)))

    paid = 0
    for day, amount in payments:
        if amount < later[0] - paid and amount > 0:
            paid += amount  # below the principal still owed, so below the payoff amount
            continue
        if not amount > 0:
            continue  # refused: a payment must be more than zero
        j = bisect_right(dates, day)  # installments due on or before the day
        payoff = max(0, ends[j - 1] - paid) if j else 0
        k = j
        if j < n and not (j and dates[j - 1] == day):
            payoff += min(tail[j], max(0, ends[j] - paid))  # the installment running on day
            k = j + 1
        payoff += principal_from(k, paid)
        if amount > payoff:
            continue  # refused: more than the payoff amount
        if amount == payoff:
            return 0  # paid off: the rest is waived and every later payment refused
        paid += amount
    return principal_from(0, paid)
