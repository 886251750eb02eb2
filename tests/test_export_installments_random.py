"""The Installments sheet's integer replay against the Decimal replay of each loan, on a seeded
generated ledger with rescheduled, written-off, reversed-payment and paid-off-early loans, as
of two days (so payments and reversals after the as-of day are left out too)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from decimal import Decimal
from functools import partial

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from bench.generate import AS_OF, generate
from exports.cells import Amount, Cell
from exports.context import ExportContext
from exports.loan_data import _installment_rows
from ledger.actor import SYSTEM
from ledger.allocation import Payment, allocate
from ledger.db.tables import Loan, core_table
from ledger.money import Money, get_currency
from ledger.reports import installments
from ledger.services.errors import ServiceError
from ledger.services.loan_book import load_dues, load_state
from ledger.services.repayments import payoff_quote, record_repayment, reverse_repayment
from ledger.services.reschedule import reschedule_loan
from ledger.services.writeoffs import write_off_loan

EARLIER = date(2009, 12, 31)


def _standing(session: Session, loan_id: int, as_of: date, digits: int) -> tuple[Payment, ...]:
    rp, rr, je = (core_table(n) for n in ("repayment", "repayment_reversal", "journal_entry"))
    gone = sa.select(rr.c.repayment_id).join(je, je.c.id == rr.c.entry_id).where(
        je.c.occurred_on <= as_of)
    rows = session.execute(sa.select(rp.c.id, rp.c.paid_on, rp.c.amount_minor).where(
        rp.c.loan_id == loan_id, rp.c.paid_on <= as_of, rp.c.id.not_in(gone)))
    return tuple(Payment(int(i), d, Decimal(int(a)).scaleb(-digits)) for i, d, a in rows)


def _expected(session: Session, as_of: date) -> Iterator[tuple[Cell, ...]]:
    """The sheet's rows as the per-loan Decimal replay (`load_dues`, `allocate`) gives them."""
    fam, vil = core_table("family"), core_table("village")
    loans = session.execute(
        sa.select(Loan, fam.c.ref, fam.c.head_name, vil.c.name_en)
        .join(fam, fam.c.id == Loan.family_id).join(vil, vil.c.id == fam.c.village_id)
        .where(Loan.disbursed_on.is_not(None), Loan.disbursed_on <= as_of)  # type: ignore[operator, union-attr]
        .order_by(Loan.id)).all()
    for loan, fref, head, village in loans:
        assert loan.id is not None
        digits = get_currency(loan.currency).digits
        payments = _standing(session, loan.id, as_of, digits)
        state = allocate(load_dues(session, loan, payments), payments, as_of=as_of, strict=False)
        off = "yes" if loan.written_off_on is not None and loan.written_off_on <= as_of else "no"
        for inst in state.installments:
            due, paid, left = inst.due.parts, inst.paid, inst.outstanding
            yield (loan.ref, fref, head, village, off, loan.currency, inst.number,
                   inst.due_date, *(Amount(int(v.scaleb(digits)), loan.currency) for v in (
                       due.principal, due.interest, due.fee + due.penalty, due.total,
                       paid.principal, paid.interest, paid.fee + paid.penalty, paid.total,
                       inst.waived.total, left.principal, left.interest, left.total)),
                   inst.fully_paid_on, "yes" if inst.paid_on_time else "no")


def _attempt(done: list[int], loan_id: int, action: Callable[[], object]) -> None:
    # A service refusing an action the draw made up (a loan already closed, a date before a
    # payment) is fine: the ledger keeps what was allowed.
    try:
        action()
    except ServiceError:
        return
    done.append(loan_id)


def _stir(session: Session, rng: random.Random) -> dict[str, list[int]]:
    """Reschedule, reverse, write off and pay off early some loans, through the services."""
    rows = session.execute(sa.select(Loan.id, Loan.disbursed_on, Loan.status)  # type: ignore[call-overload]
                           .order_by(Loan.id)).all()
    # Only open loans can be rescheduled, written off or paid off; any payment can be reversed.
    active = [(int(i), d) for i, d, status in rows if status == "active"]
    closed = [(int(i), d) for i, d, status in rows if status != "active"]
    rng.shuffle(active)
    rng.shuffle(closed)
    rp = core_table("repayment")
    did: dict[str, list[int]] = {k: [] for k in ("reschedule", "reverse", "write_off", "payoff")}
    picks = [(n, lid, d) for n, (lid, d) in enumerate(active[:60])]
    picks += [(1, lid, d) for lid, d in closed[:10]]
    for n, loan_id, disbursed in picks:
        paid = session.execute(sa.select(rp.c.id, rp.c.paid_on).where(rp.c.loan_id == loan_id)
                               .order_by(rp.c.paid_on, rp.c.id)).all()
        last = max((d for _, d in paid), default=disbursed)
        kind = ("reschedule", "reverse", "write_off", "payoff")[n % 4]
        if kind == "reschedule":
            on = min(last + timedelta(days=rng.randint(1, 60)), AS_OF)
            _attempt(did[kind], loan_id, partial(
                reschedule_loan, session, actor=SYSTEM, loan_id=loan_id, on=on, today=AS_OF,
                repayments=rng.randint(3, 12), reason="flood"))
            if did[kind] and did[kind][-1] == loan_id and rng.random() < 0.7:
                for k in range(rng.randint(1, 4)):
                    day = on + timedelta(days=20 + 30 * k)
                    if day <= AS_OF:
                        _attempt([], loan_id, partial(
                            record_repayment, session, actor=SYSTEM, loan_id=loan_id,
                            paid_on=day, today=AS_OF,
                            amount=Money.from_minor(rng.randint(5, 40) * 1_000, "KHR")))
        elif kind == "reverse" and paid:
            # Reversing the last payment (dated after every other) needs no reallocation
            # refused; an earlier one re-allocates every later payment.
            rid, day = paid[-1] if rng.random() < 0.5 else paid[rng.randrange(len(paid))]
            on = min(max(day, last) + timedelta(days=rng.randint(1, 400)), AS_OF)
            _attempt(did[kind], loan_id, partial(
                reverse_repayment, session, actor=SYSTEM, repayment_id=int(rid),
                reason="counted twice", on=on))
        elif kind == "write_off":
            on = min(last + timedelta(days=rng.randint(30, 500)), AS_OF)
            _attempt(did[kind], loan_id, partial(
                write_off_loan, session, actor=SYSTEM, loan_id=loan_id, on=on, today=AS_OF,
                reason="moved"))
        elif kind == "payoff":
            on = min(last + timedelta(days=rng.randint(1, 45)), AS_OF)
            quote = payoff_quote(session, actor=SYSTEM, loan_id=loan_id, as_of=on)
            if quote.amount > 0:
                _attempt(did[kind], loan_id, partial(
                    record_repayment, session, actor=SYSTEM, loan_id=loan_id, amount=quote,
                    paid_on=on, today=AS_OF))
    return did


def _no_decimal(*_: object) -> None:
    raise AssertionError("a loan was replayed in Decimal")


def _rows(session: Session, as_of: date) -> list[tuple[Cell, ...]]:
    return [tuple(r) for r in _installment_rows(ExportContext(session, SYSTEM, as_of))]


def _differences(got: Sequence[tuple[Cell, ...]], want: Sequence[tuple[Cell, ...]]) -> list[str]:
    return [f"{g!r} != {w!r}" for g, w in zip(got, want, strict=True) if g != w][:5]


def test_integer_replay_matches_the_decimal_replay(engine: sa.Engine,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    url = engine.url.render_as_string(hide_password=False)
    generate(url, 160, seed=23)
    with Session(engine, expire_on_commit=False) as session:
        did = _stir(session, random.Random(5))
        assert all(len(v) >= 3 for v in did.values()), did
        # Every loan here has dues `allocate` takes, so none may take the Decimal way round.
        monkeypatch.setattr(installments, "_decimal", _no_decimal)
        for as_of in (EARLIER, AS_OF):
            got, want = _rows(session, as_of), list(_expected(session, as_of))
            assert len(got) == len(want) > 1_000
            assert not _differences(got, want)
        # `got` is as of AS_OF from here on.
        # The cases are there: composed dues, forgiven charges, written-off loans.
        loans = {r[0] for r in got if r[4] == "yes"}
        assert len(loans) >= 3
        assert any(r[16] != Amount(0, "KHR") for r in got)  # a payoff forgave something
        refs = dict(session.execute(sa.select(Loan.id, Loan.ref)).all())  # type: ignore[call-overload]
        for loan_id in did["reschedule"][:3]:
            loan = session.get(Loan, loan_id)
            assert loan is not None
            numbers = [r[6] for r in got if r[0] == refs[loan_id]]
            assert len(numbers) == len(load_state(session, loan, as_of=AS_OF).installments)
