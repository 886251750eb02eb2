"""The `reversals` kind and reversed repayments in a bundle, on SQLite and PostgreSQL: a
reversal is validated row by row and posted with its re-allocation; one older than the
ledger's limit needs two named people; and a ledger with reversals round-trips through
`fsf export bundle` / `fsf import bundle` with the same balances, loan states and journal,
down to each reversal's re-allocation entry."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from sqlmodel import Session

from exports.bundle import export_bundle
from imports import commit, validate
from imports.bundle import import_bundle
from imports.kinds.reversals import stored_reversals
from ledger.actor import Actor, Role
from ledger.approvals import approve, propose_reversal
from ledger.db import make_engine
from ledger.db.tables import core_table
from ledger.journal import balances_by_account
from ledger.services.loan_book import get_loan, load_state
from ledger.services.repayments import record_repayment, reverse_repayment
from ledger.verify import verify_ledger
from tests.import_support import counts, write_xlsx
from tests.support.world import ACTOR, TODAY, build_world, riel

DARA = Actor("dara", frozenset({Role.OFFICER}))
KEO = Actor("keo", frozenset({Role.APPROVER}))
CLERK = Actor("clerk", frozenset({Role.ADMINISTRATOR, Role.OFFICER, Role.APPROVER}))
OFFICER = Actor("sokha", frozenset({Role.OFFICER}))
HEADERS = ["payment_ref", "reversed_on", "reason", "reversed_by", "approved_by"]


def _pay(session: Session, loan: int, on: date, amount: int, ref: str) -> int:
    row = record_repayment(session, actor=ACTOR, loan_id=loan, amount=riel(amount), paid_on=on,
                           today=TODAY, ref=ref)
    assert row.id is not None
    return row.id


def _payoff(session: Session, loan: int) -> int:
    return int(load_state(session, get_loan(session, loan)).outstanding.total)


def build_source(session: Session) -> None:
    """Three loans: an old payment reversed with two people's approval after later payments
    (they re-allocate), a payment reversed the same week by one officer, a closing payment
    reversed (the loan opens again and is closed later), and a loan left alone."""
    world = build_world(session)
    la = world.loan(world.families[0], 200_000, repayments=10, ref="LA")
    lb = world.loan(world.families[1], 150_000, repayments=6, ref="LB")
    lc = world.loan(world.families[2], 100_000, repayments=6, on=date(2008, 2, 1), ref="LC")
    for n, on in enumerate((date(2008, 2, 15), date(2008, 3, 15), date(2008, 4, 15),
                            date(2008, 5, 15)), start=1):
        _pay(session, la, on, 21_100, f"A{n}")
    _pay(session, lb, date(2008, 2, 15), 25_900, "B1")
    bounced = _pay(session, lb, date(2008, 3, 14), 25_900, "B2")
    for n, on in enumerate((date(2008, 3, 1), date(2008, 4, 1)), start=1):
        _pay(session, lc, on, 17_300, f"C{n}")
    reverse_repayment(session, actor=DARA, repayment_id=bounced, reason="Counterfeit notes",
                      on=date(2008, 3, 18))
    _pay(session, lb, date(2008, 3, 20), 25_900, "B3")
    old = session.execute(sa.select(core_table("repayment").c.id).where(
        core_table("repayment").c.ref == "A2")).scalar_one()
    queued = propose_reversal(session, actor=DARA, repayment_id=old, on=date(2008, 5, 20),
                              reason="Cheque refused by the bank")
    assert queued.id is not None
    approve(session, actor=KEO, approval_id=queued.id, today=TODAY)
    _pay(session, la, date(2008, 6, 15), 21_100, "A5")  # after the reversal: a later round
    for n, on in enumerate((date(2008, 4, 15), date(2008, 5, 15), date(2008, 6, 15)), start=4):
        _pay(session, lb, on, 25_900, f"B{n}")
    closing = _pay(session, lb, date(2008, 7, 15), _payoff(session, lb), "B7")
    assert get_loan(session, lb).status == "closed"
    reverse_repayment(session, actor=DARA, repayment_id=closing, reason="Paid twice by error",
                      on=date(2008, 7, 16))
    assert get_loan(session, lb).status == "active"
    _pay(session, lb, date(2008, 8, 1), _payoff(session, lb), "B8")
    _pay(session, lc, date(2008, 5, 1), 17_300, "C3")
    session.commit()


def _codes(session: Session) -> dict[int, str]:
    acct = core_table("account")
    return {int(i): str(c) for i, c in session.execute(sa.select(acct.c.id, acct.c.code))}


def books(url: str) -> dict[str, Any]:
    """What must be the same on both sides: balances per account, loan states, the journal's
    entries by kind, every reversal and re-allocation entry line by line, reversal records."""
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            codes, ln = _codes(s), core_table("loan")
            je, post = core_table("journal_entry"), core_table("posting")
            loans = {}
            for lid, ref in s.execute(sa.select(ln.c.id, ln.c.ref)).all():
                loan = get_loan(s, lid)
                state = load_state(s, loan)
                loans[ref] = (loan.status, loan.closed_on, state.outstanding, state.paid)
            lines: dict[int, list[tuple[str, str | None, int]]] = {}
            for eid, acct, comp, minor in s.execute(
                    sa.select(post.c.entry_id, post.c.account_id, post.c.component,
                              post.c.amount_minor)):
                lines.setdefault(int(eid), []).append((codes[int(acct)], comp, int(minor)))
            refs = dict(s.execute(sa.select(ln.c.id, ln.c.ref)).all())
            moved = sorted((str(kind), on, refs[lid], tuple(sorted(lines[int(eid)])))
                           for eid, kind, on, lid in s.execute(
                               sa.select(je.c.id, je.c.kind, je.c.occurred_on, je.c.loan_id)
                               .where(je.c.kind.in_(("reversal", "reallocation")))))
            rv, rp, pa = (core_table("repayment_reversal"), core_table("repayment"),
                          core_table("pending_approval"))
            refs_of = {int(i): str(r) for i, r in s.execute(
                sa.select(rp.c.id, rp.c.ref).join(rv, rv.c.repayment_id == rp.c.id))}
            told = stored_reversals(s, list(refs_of))
            return {
                "balances": {codes[k]: v for k, v in balances_by_account(s).items()},
                "loans": loans,
                "kinds": Counter(str(k) for k in s.execute(sa.select(je.c.kind)).scalars()),
                "moved": moved,
                # as a file writes them: the reason, who reversed it, who approved it
                "reversals": {ref: told[rid] for rid, ref in refs_of.items()},
                "approvals": sorted(tuple(r) for r in s.execute(
                    sa.select(pa.c.kind, pa.c.reason, pa.c.requested_by, pa.c.decided_by,
                              pa.c.occurred_on).where(pa.c.decision == "approved"))),
            }
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def two_ledgers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two migrated, empty ledgers on the same kind of database: a source and a target."""
    if request.param == "sqlite":
        template = request.getfixturevalue("_sqlite_template")
        urls = []
        for name in ("source", "target"):
            shutil.copyfile(template, tmp_path / f"{name}.sqlite")
            urls.append(f"sqlite:///{tmp_path / f'{name}.sqlite'}")
        yield urls[0], urls[1]
    else:
        make: Callable[..., str] = request.getfixturevalue("make_pg_database")
        yield make(), make()


def test_a_ledger_with_reversals_round_trips(two_ledgers: tuple[str, str],
                                             tmp_path: Path) -> None:
    source, target = two_ledgers
    engine = make_engine(source)
    with Session(engine) as session:
        build_source(session)
        export_bundle(session, actor=ACTOR, out=tmp_path / "bundle", today=TODAY)
    engine.dispose()
    files = sorted((tmp_path / "bundle").glob("*.xlsx"))
    kinds = [p.name.split("-", 1)[1][:-5] for p in files]
    assert kinds.count("reversals") == 3 and kinds.count("repayments") >= 3
    sheet = openpyxl.load_workbook(files[kinds.index("reversals")]).active
    assert sheet is not None
    assert [c.value for c in sheet[1]] == HEADERS
    engine = make_engine(target)
    with Session(engine) as session:
        result = import_bundle(tmp_path / "bundle", session=session, actor=CLERK, today=TODAY)
        assert result.committed, [(s.file, s.problems) for s in result.steps if s.problems]
        assert verify_ledger(session).ok
        again = import_bundle(tmp_path / "bundle", session=session, actor=CLERK, today=TODAY)
        assert again.committed and again.created == 0 and again.unchanged == result.created
    engine.dispose()
    expected, got = books(source), books(target)
    for key in expected:
        assert got[key] == expected[key], key
    assert expected["kinds"]["reversal"] == 3 and expected["kinds"]["reallocation"] >= 1
    assert ("reversal", "Cheque refused by the bank", "dara", "keo",
            date(2008, 5, 20)) in got["approvals"]
    assert got["reversals"]["B2"] == {"reversed_on": date(2008, 3, 18),
                                      "reason": "Counterfeit notes", "reversed_by": "dara",
                                      "approved_by": ""}
    engine = make_engine(target)
    with Session(engine) as session:  # the clerk posted it; the reason names who reversed it
        rv = core_table("repayment_reversal")
        assert set(session.execute(sa.select(rv.c.reason, rv.c.reversed_by)).all()) == {
            ("Counterfeit notes (proposed by dara)", "clerk"),
            ("Cheque refused by the bank (proposed by dara)", "clerk"),
            ("Paid twice by error (proposed by dara)", "clerk")}
    engine.dispose()


def _ledger(session: Session) -> dict[str, int]:
    """The test world with loan LA paid four times (A1-A4, monthly from 15 February 2008)."""
    world = build_world(session)
    la = world.loan(world.families[0], 200_000, repayments=10, ref="LA")
    ids = {f"A{n}": _pay(session, la, date(2008, n + 1, 15), 21_100, f"A{n}")
           for n in range(1, 5)}
    session.commit()
    return ids


def _run(session: Session, tmp_path: Path, rows: list[list[Any]], actor: Actor = CLERK
         ) -> tuple[Any, Any]:
    path = write_xlsx(tmp_path / "reversals.xlsx", HEADERS, rows, "reversals")
    preview = validate("reversals", path, session=session, actor=actor, today=TODAY)
    return preview, commit(preview, session=session, actor=actor)


def test_every_bad_reversal_is_named_and_nothing_is_written(session: Session,
                                                             tmp_path: Path) -> None:
    _ledger(session)
    before = counts(session)
    bad = [["A9", date(2008, 3, 1), "No such payment", None, None],
           ["A1", date(2008, 2, 10), "Before the payment", None, None],
           ["A2", date(2008, 6, 1), "Old, one person", "sokha", None],
           ["A3", date(2008, 6, 1), "Old, same person twice", "keo", "KEO"],
           ["A4", date(2030, 1, 1), "In the future", None, None],
           ["A4", date(2008, 5, 16), "Twice in the file", None, None],
           ["A1", date(2008, 2, 16), None, None, None]]
    preview, result = _run(session, tmp_path, bad)
    found = {(p.row, p.column) for p in preview.problems}
    assert {(2, "payment_ref"), (3, "reversed_on"), (4, "approved_by"), (5, "approved_by"),
            (6, "reversed_on"), (7, "payment_ref"), (8, "reason")} <= found
    assert "more than this ledger's 7 days later" in " ".join(
        p.message for p in preview.problems if p.row == 4)
    assert not result.committed and counts(session) == before
    # an officer cannot bring an approved reversal in: that needs the approver role too
    preview, result = _run(session, tmp_path, [["A2", date(2008, 6, 1), "Old", "dara", "keo"]],
                           actor=OFFICER)
    assert {(p.row, p.column) for p in preview.problems} == {(2, "approved_by")}
    assert counts(session) == before


def test_reversals_post_once_with_their_approval(session: Session, tmp_path: Path) -> None:
    ids = _ledger(session)
    good = [["A4", date(2008, 5, 19), "Counterfeit notes", None, None],
            ["A2", date(2008, 6, 1), "Cheque refused", "dara", "keo"]]
    preview, result = _run(session, tmp_path, good)
    assert preview.valid and result.committed and result.created == 2
    rv, pa = core_table("repayment_reversal"), core_table("pending_approval")
    stored = dict(session.execute(sa.select(rv.c.repayment_id, rv.c.reason)).all())
    assert stored == {ids["A4"]: "Counterfeit notes",
                      ids["A2"]: "Cheque refused (proposed by dara)"}
    approval = session.execute(sa.select(pa.c.subject_id, pa.c.requested_by, pa.c.decided_by,
                                         pa.c.decision, pa.c.entry_id)).one()
    assert tuple(approval[:4]) == (ids["A2"], "dara", "keo", "approved")
    assert approval.entry_id is not None
    la = get_loan(session, 1)
    assert load_state(session, la).paid.total == 2 * 21_100
    je = core_table("journal_entry")
    assert session.execute(sa.select(sa.func.count()).where(
        je.c.kind == "reallocation")).scalar_one() == 1  # A3 re-allocated after A2 went
    before = counts(session)
    preview, result = _run(session, tmp_path, good)
    assert preview.unchanged == 2 and not result.committed and counts(session) == before
    changed = [["A4", date(2008, 5, 20), "Counterfeit notes", None, None],
               ["A2", date(2008, 6, 1), "Cheque refused", "dara", "chan"]]
    preview, result = _run(session, tmp_path, changed)
    assert {(p.row, p.column) for p in preview.problems} == {(2, "reversed_on"),
                                                             (3, "approved_by")}
    assert counts(session) == before
