"""The import's set lookups find refs whatever characters they hold: on PostgreSQL the refs go
as one array literal, quoted and escaped by `pg_array`; on SQLite as an IN list."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from ledger.services.driver import pg_array
from ledger.services.import_checks import loans_by_ref, repayments_by_ref
from ledger.services.loan_book import get_loan
from ledger.services.repayments import record_repayment
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
