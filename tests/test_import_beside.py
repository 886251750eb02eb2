"""`imports.beside`: an import's lookups run on connections of their own outside a use case,
with the answers the session itself would give, and on the session inside one, where they
must see the rows its transaction wrote and has not committed (a bundle's earlier files)."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy.orm import Session

from imports.beside import Beside
from ledger.services.import_checks import (
    loans_by_ref,
    principal_room,
    room_left,
    scheduled_principal,
    standing_paid,
)
from ledger.services.repayments import record_repayment
from ledger.services.unit import use_case
from tests.support.world import ACTOR, TODAY, World, build_world, riel


@pytest.fixture
def world(session: Session) -> World:
    w = build_world(session, families=4)
    for n, family in enumerate(w.families[:3]):
        loan = w.loan(family, ref=f"L{n}")
        record_repayment(session, actor=ACTOR, loan_id=loan, amount=riel(21_100 * (n + 1)),
                         paid_on=date(2008, 2, 15), today=TODAY)
    session.commit()
    return w


def _where(session: Session, refs: list[str]) -> tuple[int, dict[str, tuple[object, ...]]]:
    return threading.get_ident(), loans_by_ref(session, refs)


def test_outside_a_use_case_lookups_run_apart_with_the_same_answers(world: World) -> None:
    s = world.session
    refs = ["L0", "L1", "L2", "NOPE"]
    ids = sorted(v[0] for v in loans_by_ref(s, refs).values())
    here = _where(s, refs)
    s.rollback()
    with Beside(s) as side:
        there = side.submit(_where, refs)
        paid, scheduled = side.submit(standing_paid, ids), side.submit(scheduled_principal, ids)
        thread, found = there()
        room = room_left(scheduled(), paid())
    assert thread != threading.get_ident()
    assert found == here[1] and set(found) == {"L0", "L1", "L2"}
    assert room == principal_room(s, ids) and len(room) == 3


def test_inside_a_use_case_lookups_see_what_it_has_not_committed(world: World) -> None:
    s = world.session
    with use_case(s):
        world.loan(world.families[3], ref="NEW")
        with Beside(s) as side:
            thread, found = side.submit(_where, ["NEW"])()
        assert thread == threading.get_ident()
        assert set(found) == {"NEW"}
