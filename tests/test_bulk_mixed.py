"""`post_repayments` against `record_repayment` one by one on mixed ledgers (SQLite, PostgreSQL).

Riel and dollar loans, rescheduled loans, standing payments (some paid far ahead), back-dated
and same-day payments, notes, payoffs: random candidates are tried one by one on one twin
(what it accepts is the plan, what it refuses is kept with its error), then the plan is
posted in one batch on the other: the same rows and a chain that holds. Each refused
candidate, posted in a batch after the accepted ones before it, is refused with the same error.
"""

from __future__ import annotations

import gc
import random
import re
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session

from ledger.allocation import allocate, payoff_amount
from ledger.db.tables import LoanProduct
from ledger.money import Money, get_currency
from ledger.services.bulk import BULK_CACHE_KIB, NewRepayment, post_repayments
from ledger.services.errors import Conflict, ServiceError
from ledger.services.funds import open_fund, receive_capital
from ledger.services.loan_book import get_loan, load_dues, load_payments
from ledger.services.loans import apply_for_loan, approve_loan, disburse_loan
from ledger.services.products import FOUNDATION_PRODUCT, create_product
from ledger.services.repayments import record_repayment
from ledger.services.reschedule import reschedule_loan
from tests.support.world import ACTOR, TODAY, build_world, riel
from tests.test_bulk_speedpaths import _chain_holds, _snapshot

START = date(2008, 1, 3)
ZERO = Decimal(0)


def _money(loan_currency: str, minor: int) -> Money:
    if loan_currency == "USD":
        return Money.parse(Decimal(minor).scaleb(-2), "USD")
    return riel(minor)


def _ledger(session: Session, seed: int) -> list[int]:
    """Eight riel and four dollar loans; payments on most, two loans rescheduled."""
    world = build_world(session, families=12)
    open_fund(session, actor=ACTOR, code="USDF", name="Dollar fund", currency="USD")
    receive_capital(session, actor=ACTOR, fund_code="USDF", ref="CU", contributor="Donor",
                    amount=Money.parse(50_000, "USD"), received_on=date(2007, 1, 8))
    create_product(session, actor=ACTOR, product=LoanProduct(**{
        **FOUNDATION_PRODUCT.model_dump(exclude={"id"}), "code": "USD", "name": "Dollar loan",
        "currency": "USD", "min_principal_minor": 10_000, "max_principal_minor": 100_000}))
    ids = []
    for n, fam in enumerate(world.families):
        on = START + timedelta(days=11 * n)
        if n < 8:
            ids.append(world.loan(fam, principal=100_000 + 20_000 * (n % 5),
                                  repayments=6 + n % 7, on=on, ref=f"R{n:02d}"))
            continue
        loan = apply_for_loan(session, actor=ACTOR, ref=f"U{n:02d}", family_id=fam,
                              product_code="USD", fund_code="USDF",
                              principal=Money.parse(300 + 50 * n, "USD"), repayments=6 + n % 5,
                              applied_on=on, today=TODAY)
        assert loan.id is not None
        approve_loan(session, actor=ACTOR, loan_id=loan.id, on=on, today=TODAY)
        disburse_loan(session, actor=ACTOR, loan_id=loan.id, on=on, today=TODAY)
        ids.append(loan.id)
    rng = random.Random(seed)
    for n, loan_id in enumerate(ids):
        loan = get_loan(session, loan_id)
        dues = load_dues(session, loan)
        for k, due in enumerate(dues[:rng.randint(0, 3)]):
            minor = int((due.principal + due.interest).scaleb(2 if loan.currency == "USD" else 0))
            record_repayment(session, actor=ACTOR, loan_id=loan_id,
                             amount=_money(loan.currency, minor - rng.choice([0, 0, 100])),
                             paid_on=due.due_date + timedelta(days=rng.choice([-2, 0, 6])),
                             today=TODAY, ref=f"S{loan_id}-{k}")
        stored = load_payments(session, loan_id, currency=get_currency(loan.currency))
        last = max([p.paid_on for p in stored], default=loan.disbursed_on)
        assert last is not None
        if n in (1, 5, 10):
            # Most of the principal paid ahead: standing payments that are not all plain
            # fills of the schedule (the replay reads them one by one).
            owed = sum(d.principal for d in dues) - sum((p.amount for p in stored), ZERO) / 2
            minor = int((owed * Decimal("0.8")).scaleb(2 if loan.currency == "USD" else 0))
            record_repayment(session, actor=ACTOR, loan_id=loan_id,
                             amount=_money(loan.currency, minor), paid_on=last,
                             today=TODAY, ref=f"A{loan_id}")
        if n in (3, 9):
            reschedule_loan(session, actor=ACTOR, loan_id=loan_id, on=last + timedelta(days=4),
                            today=TODAY, repayments=5, reason="flood")
    return ids


def _candidates(session: Session, ids: list[int], seed: int) -> list[NewRepayment]:
    """Payments of every kind, in (date, input) order: many the service refuses."""
    rng = random.Random(seed * 31 + 7)
    out: list[NewRepayment] = []
    for loan_id in ids:
        loan = get_loan(session, loan_id)
        assert loan.disbursed_on is not None
        dues = load_dues(session, loan)
        stored = load_payments(session, loan_id, currency=get_currency(loan.currency))
        scale = 2 if loan.currency == "USD" else 0
        days = [d.due_date for d in dues] + [p.paid_on for p in stored] + [loan.disbursed_on]
        for _ in range(rng.randint(1, 6)):
            when = min(rng.choice(days) + timedelta(days=rng.choice([-30, -1, 0, 0, 3, 40])),
                       TODAY + timedelta(days=rng.choice([0, 0, 0, 0, 0, 1])))
            due = rng.choice(dues)
            amount = rng.choice([due.principal + due.interest, due.interest + 1,
                                 (due.principal + due.interest) * 3, due.principal / 3])
            out.append(NewRepayment(loan_id, when, _money(loan.currency,
                                                          int(amount.scaleb(scale))),
                                    ref=f"N{len(out)}", note=rng.choice(["", "", "at market"])))
        if rng.random() < 0.3:  # refused whatever the loan owes: currency, nothing, future
            # (with no payoff, so that the loan is still open when they are tried)
            other = "KHR" if loan.currency == "USD" else "USD"
            out.append(NewRepayment(loan_id, rng.choice(days), _money(other, 5_000),
                                    ref=f"N{len(out)}"))
            out.append(NewRepayment(loan_id, rng.choice(days), _money(loan.currency, 0),
                                    ref=f"N{len(out)}"))
            out.append(NewRepayment(loan_id, TODAY + timedelta(days=1),
                                    _money(loan.currency, 1_000), ref=f"N{len(out)}"))
            continue
        # Payoffs: the amount, exact or one minor unit above, is set when it is tried.
        when = min(dues[-1].due_date + timedelta(days=rng.choice([-60, -20, 0])), TODAY)
        for extra in rng.sample([0, 0, 1], 2):
            out.append(NewRepayment(loan_id, when, _money(loan.currency, extra),
                                    ref=f"P{len(out)}"))
    rng.shuffle(out)
    return sorted(out, key=lambda p: p.paid_on)  # stable: ties keep the shuffled order


def _payoff(session: Session, c: NewRepayment) -> NewRepayment | None:
    """`c` with the payoff amount of its day added to its amount (0 or one minor unit);
    None when nothing is owed."""
    loan = get_loan(session, c.loan_id)
    state = allocate(load_dues(session, loan), load_payments(
        session, c.loan_id, currency=get_currency(loan.currency)), strict=False)
    owed = payoff_amount(state, c.paid_on)
    if owed == 0:
        return None
    return replace(c, amount=Money(c.amount.amount + owed, c.amount.currency))


def _same_refusal(batch: str, single: str, ref: str) -> bool:
    """The batch's refusal is the one-by-one refusal, or how a batch words it (as it did
    before, too): it names the loan; a loan a payment of the batch closed is not closed in
    the ledger when the batch is checked, so a later payment to it is refused for its own
    first problem (or by the replay); a back-dated payment the replay puts before later
    standing payments is refused for what it would do to them."""
    if batch == single or batch.replace(f"loan {ref} was", "the loan was") == single:
        return True
    if single == f"loan: loan {ref} is closed; payments go only to active loans":
        return True
    return bool(re.fullmatch(r"amount: .* is more than the payoff amount of .*", single)
                and re.fullmatch(r"paid_on: a payment on .* would leave the later payment of "
                                 rf".* above what loan {re.escape(ref)} owes", batch))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bulk_equals_one_by_one_on_mixed_ledgers(
        twins: tuple[Session, Session], seed: int) -> None:
    bulk, single = twins
    ids = _ledger(bulk, seed)
    assert _ledger(single, seed) == ids
    candidates = _candidates(bulk, ids, seed)
    accepted: list[NewRepayment] = []
    refused: list[tuple[int, NewRepayment, str]] = []
    for c in candidates:
        if c.ref and c.ref.startswith("P"):
            paid_off = _payoff(single, c)
            if paid_off is None:
                continue  # the loan is closed: nothing to pay off
            c = paid_off
        try:
            record_repayment(single, actor=ACTOR, loan_id=c.loan_id, amount=c.amount,
                             paid_on=c.paid_on, today=TODAY, ref=c.ref, note=c.note)
        except ServiceError as exc:
            refused.append((len(accepted), c, str(exc)))
        else:
            accepted.append(c)
    assert len(accepted) > 10 and len(refused) > 3
    before = _snapshot(bulk)
    # On PostgreSQL a refused batch still spends the ids it reserved (sequences do not roll
    # back), so later rows would be numbered apart: refusals are compared on SQLite.
    sqlite = bulk.get_bind().dialect.name == "sqlite"
    for cut, c, why in refused if sqlite else []:
        with pytest.raises(ServiceError) as caught:
            post_repayments(bulk, actor=ACTOR, payments=[*accepted[:cut], c], today=TODAY)
        assert _same_refusal(str(caught.value), why, get_loan(bulk, c.loan_id).ref), c
        assert _snapshot(bulk) == before  # the whole batch refused
    post_repayments(bulk, actor=ACTOR, payments=accepted, today=TODAY)
    after = _snapshot(bulk)
    assert after == _snapshot(single)
    assert any(status == "closed" for _, status, _ in after["loans"])
    assert _chain_holds(bulk) == len(after["entries"])


def test_refs_already_in_the_ledger_are_found_in_any_chunk(
        twins: tuple[Session, Session]) -> None:
    """A ref past the first 900 of the batch that the ledger holds refuses the batch, and
    garbage collection, paused while a batch posts, is back on after a refusal too; so is
    SQLite's page cache, larger while a batch posts, back to its size."""
    session = twins[0]
    default = _page_cache(session)
    world = build_world(session, families=1)
    loan_id = world.loan(world.families[0])
    record_repayment(session, actor=ACTOR, loan_id=loan_id, amount=riel(1_000),
                     paid_on=date(2008, 2, 1), today=TODAY, ref="K950")
    batch = [NewRepayment(loan_id, date(2008, 3, 1), riel(1), ref=f"K{n}") for n in range(1000)]
    assert gc.isenabled()
    with pytest.raises(Conflict, match="'K950' is already in the ledger"):
        post_repayments(session, actor=ACTOR, payments=batch, today=TODAY)
    assert gc.isenabled() and _page_cache(session) == default
    during: list[int | None] = []
    post_repayments(session, actor=ACTOR, payments=batch[:900], today=TODAY,
                    progress=lambda done, total: during.append(_page_cache(session)))
    assert gc.isenabled() and _page_cache(session) == default
    sqlite = session.get_bind().dialect.name == "sqlite"
    assert during and set(during) == ({-BULK_CACHE_KIB} if sqlite else {None})
    assert default == (-2000 if sqlite else None)  # SQLite's own default, 2,000 KiB


def _page_cache(session: Session) -> int | None:
    """The SQLite connection's `cache_size` (negative: KiB), None on PostgreSQL."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return None
    return int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
