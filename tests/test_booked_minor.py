"""What bulk posting reads as booked on many loans (`booked_minor`: every component posting
less those of entries that book no repayment) must be what `booked_parts` reads of each loan
alone: reversed payments and their reallocations counted, a disbursement, its reversal and a
write-off left out, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlmodel import Session

from ledger.actor import SYSTEM
from ledger.db.tables import core_table
from ledger.journal import reverse_entry
from ledger.services.bulk_inputs import booked_minor
from ledger.services.loan_book import booked_parts, load_payments
from ledger.services.repayments import record_repayment, reverse_repayment
from ledger.services.writeoffs import write_off_loan
from tests.support.world import ACTOR, TODAY, build_world, riel

COMPONENTS = ("penalty", "fee", "interest", "principal")


def _pay(session: Session, loan_id: int) -> None:
    for k, (day, amount) in enumerate([(date(2008, 2, 15), 21_100), (date(2008, 3, 3), 5_000),
                                       (date(2008, 3, 20), 16_100)]):
        record_repayment(session, actor=ACTOR, loan_id=loan_id, amount=riel(amount),
                         paid_on=day, today=TODAY, ref=f"P{loan_id}-{k}")


def test_booked_sums_of_many_loans_are_each_loans_own(session: Session) -> None:
    world = build_world(session, families=5)
    plain, reversed_, written_off, undone, untouched = (world.loan(f) for f in world.families)
    for loan_id in (plain, reversed_, written_off, undone):
        _pay(session, loan_id)
    first = load_payments(session, reversed_, currency=riel(0).currency)[0]
    reverse_repayment(session, actor=ACTOR, repayment_id=int(first.ref), reason="entered twice",
                      on=date(2008, 3, 25))
    write_off_loan(session, actor=SYSTEM, loan_id=written_off, on=date(2008, 4, 1), today=TODAY,
                   reason="family moved away")
    je = core_table("journal_entry")
    disbursed = session.execute(sa.select(je.c.id).where(
        je.c.loan_id == undone, je.c.kind == "disbursement")).scalar_one()
    reverse_entry(session, entry_id=disbursed, memo="paid out twice", by=ACTOR.name,
                  occurred_on=date(2008, 4, 2))
    session.commit()

    ids = [plain, reversed_, written_off, undone, untouched]
    got = booked_minor(session, ids)
    for loan_id in ids:
        parts = booked_parts(session, loan_id)
        alone = {c: int(getattr(parts, c)) for c in COMPONENTS if getattr(parts, c)}
        assert {c: credit for c, _, credit in got.get(loan_id, [])} == alone, loan_id
        assert all(currency == "KHR" for _, currency, _ in got.get(loan_id, []))
    # The reallocation after the reversal moved credits between components; nothing was
    # booked on the untouched loan, and the written-off loan's principal is its payments'.
    assert untouched not in got
    assert dict((c, n) for c, _, n in got[written_off]) == dict(
        (c, n) for c, _, n in got[plain])
    assert sum(n for _, _, n in got[reversed_]) == 5_000 + 16_100
