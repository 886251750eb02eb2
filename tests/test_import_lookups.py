"""The import's set lookups find refs whatever characters they hold: on PostgreSQL the refs go
as one array literal, quoted and escaped by `pg_array`; on SQLite as an IN list. The loans
come with the schedule facts the grouped readers give."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from ledger.services.driver import pg_array
from ledger.services.import_checks import (
    loans_by_ref,
    principal_room,
    repayments_by_ref,
    scheduled_principal,
    standing_paid,
    standing_paid_by_ref,
)
from ledger.services.loan_book import get_loan, last_reschedules, load_payments
from ledger.services.repayments import record_repayment, reverse_repayment
from ledger.services.reschedule import reschedule_loan
from tests.support.world import ACTOR, TODAY, build_world, riel

ODD = ['R,1', 'R"2', "R\\3", "R{4}", "NULL", "ស្រី-5", " R6 ", "R'7"]


def test_refs_with_any_characters_are_found(session: Session) -> None:
    world = build_world(session, families=1)
    loan_id = world.loan(world.families[0])
    for n, ref in enumerate(ODD):
        record_repayment(session, actor=ACTOR, loan_id=loan_id, amount=riel(1_000),
                         paid_on=date(2008, 2, 1 + n), today=TODAY, ref=ref)
    session.commit()
    found = repayments_by_ref(session, [*ODD, "R", "null", "", "R,1,"])
    assert sorted(found) == sorted(ODD)
    assert found['R"2'] == (loan_id, date(2008, 2, 2), 1_000, "KHR")
    assert repayments_by_ref(session, []) == {}
    ref = get_loan(session, loan_id).ref
    assert loans_by_ref(session, [ref, 'x"', "{}"]).keys() == {ref}
    assert loans_by_ref(session, []) == {}


def test_the_array_literal() -> None:
    assert pg_array([3, 1, 2]) == ("{3,1,2}", "bigint[]")
    assert pg_array(['a"b', "c\\d", "e,f"]) == ('{"a\\"b","c\\\\d","e,f"}', "text[]")
    assert pg_array([]) == ("{}", "bigint[]")


def test_loans_come_with_their_schedule_facts(session: Session) -> None:
    # What the repayment import's column path reads in one query per loan: last version,
    # last reschedule date and first schedule's principal, as the grouped readers give them.
    world = build_world(session, families=2)
    plain, moved = (world.loan(f) for f in world.families)
    for loan_id in (plain, moved):
        record_repayment(session, actor=ACTOR, loan_id=loan_id, amount=riel(21_100),
                         paid_on=date(2008, 2, 15), today=TODAY)
    reschedule_loan(session, actor=ACTOR, loan_id=moved, on=date(2008, 5, 2), today=TODAY,
                    repayments=8, reason="flood")
    session.commit()
    refs = {get_loan(session, i).ref: i for i in (plain, moved)}
    found = loans_by_ref(session, [*refs, "NOPE"])
    assert {ref: facts[0] for ref, facts in found.items()} == refs
    by_id = {facts[0]: facts for facts in found.values()}
    assert by_id[plain][4:6] == (1, None) and by_id[moved][4:6] == (2, date(2008, 5, 2))
    assert {i: (f[4], f[6]) for i, f in by_id.items()} == scheduled_principal(session, [*by_id])
    assert by_id[plain][6] == 200_000 and by_id[moved][6] == 200_000
    assert last_reschedules(session, [*by_id]) == {moved: date(2008, 5, 2)}
    ids = sorted(by_id)
    assert standing_paid_by_ref(session, [*refs, "NOPE"]) == standing_paid(session, ids)
    assert set(standing_paid(session, ids)) == set(ids)


def test_standing_paid_leaves_out_reversed_payments(session: Session) -> None:
    # Summed as every payment less the reversed ones: a loan whose every payment was reversed
    # drops out as one never paid, and the rest keep what stands.
    world = build_world(session, families=3)
    partly, wholly, never = (world.loan(f) for f in world.families)
    for loan_id in (partly, wholly):
        for k, amount in enumerate((21_100, 9_000, 4_000)):
            record_repayment(session, actor=ACTOR, loan_id=loan_id, amount=riel(amount),
                             paid_on=date(2008, 2, 15 + k), today=TODAY, ref=f"P{loan_id}-{k}")
    paid = {i: load_payments(session, i, currency=riel(0).currency) for i in (partly, wholly)}
    for gone in (paid[partly][1], *paid[wholly]):
        reverse_repayment(session, actor=ACTOR, repayment_id=int(gone.ref),
                          reason="entered twice", on=date(2008, 3, 1))
    session.commit()
    ids = [partly, wholly, never]
    assert standing_paid(session, ids) == {partly: (25_100, 0)}
    refs = [get_loan(session, i).ref for i in ids]
    assert standing_paid_by_ref(session, [*refs, "NOPE"]) == {partly: (25_100, 0)}
    assert principal_room(session, ids) == {partly: 200_000 - 25_100, wholly: 200_000,
                                            never: 200_000}
