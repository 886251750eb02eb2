"""The `reschedules`, `writeoffs` and `recoveries` kinds: what they post, that a second import
changes nothing, and that bad rows are all reported with nothing written."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from imports import commit, validate
from imports.preview import ImportPreview, ImportResult
from ledger.accounts import AccountRole, account_for
from ledger.actor import Actor, PermissionDenied, Role
from ledger.db.tables import core_table
from ledger.journal import balances_by_account
from ledger.services.repayments import record_repayment
from ledger.users import add_user, create_first_admin
from tests.import_support import counts, write_xlsx
from tests.support.world import ACTOR, TODAY, World, build_world, riel

RESCHEDULE = ["reschedule_ref", "loan_ref", "rescheduled_on", "repayments", "first_due_on",
              "reason"]
WRITEOFF = ["writeoff_ref", "loan_ref", "written_off_on", "reason", "proposed_by",
            "approved_by"]
RECOVERY = ["recovery_ref", "loan_ref", "recovered_on", "amount"]


def _run(session: Session, tmp_path: Path, kind: str, headers: list[str],
         rows: list[list[Any]], actor: Actor = ACTOR) -> tuple[ImportPreview, ImportResult]:
    path = write_xlsx(tmp_path / f"{kind}.xlsx", headers, rows, kind)
    preview = validate(kind, path, session=session, actor=actor, today=TODAY)
    return preview, commit(preview, session=session, actor=actor)


def _problems(preview: ImportPreview) -> set[tuple[int | None, str | None]]:
    return {(p.row, p.column) for p in preview.problems}


def _world(session: Session) -> World:
    """Three loans of 10 months from 2008-01-15; L1 and L2 paid in February."""
    world = build_world(session, families=3)
    for n, fam in enumerate(world.families, start=1):
        loan_id = world.loan(fam, 200_000, ref=f"L{n}")
        if n < 3:
            record_repayment(session, actor=ACTOR, loan_id=loan_id, amount=riel(22_000),
                             paid_on=date(2008, 2, 15), today=TODAY)
    session.commit()
    return world


def _status(session: Session, ref: str) -> tuple[str, bool]:
    loan = core_table("loan")
    status, renegotiated = session.execute(sa.select(loan.c.status, loan.c.renegotiated)
                                           .where(loan.c.ref == ref)).one()
    return str(status), bool(renegotiated)


def test_reschedules_import_once_and_refuse_bad_rows(session: Session, tmp_path: Path) -> None:
    _world(session)
    good = [["S1", "L1", date(2008, 9, 10), 8, date(2008, 10, 10), "House flooded"]]
    preview, result = _run(session, tmp_path, "reschedules", RESCHEDULE, good)
    assert preview.valid and result.committed and result.created == 1
    assert _status(session, "L1") == ("active", True)
    ls = core_table("loan_schedule")
    assert session.execute(sa.select(sa.func.max(ls.c.version))).scalar_one() == 2
    before = counts(session)
    preview, result = _run(session, tmp_path, "reschedules", RESCHEDULE, good)
    assert preview.unchanged == 1 and not result.committed and counts(session) == before

    bad = [["S2", "L404", date(2008, 9, 10), 8, None, "flood"],   # unknown loan
           ["S3", "L2", date(2007, 12, 1), 8, None, "flood"],     # before disbursement
           ["S4", "L2", date(2008, 2, 1), 8, None, "flood"],      # a payment after it
           ["S5", "L3", date(2008, 9, 1), 8, None, "flood"],
           ["S5", "L3", date(2008, 9, 2), 8, None, "flood"],      # duplicate ref
           ["S1", "L1", date(2008, 9, 11), 8, None, "flood"]]     # S1 differs from the ledger
    preview, result = _run(session, tmp_path, "reschedules", RESCHEDULE, bad)
    assert {(2, "loan_ref"), (3, "rescheduled_on"), (4, "rescheduled_on"),
            (6, "reschedule_ref"), (7, "rescheduled_on")} <= _problems(preview)
    assert not result.committed and counts(session) == before
    assert _status(session, "L3") == ("active", False)


def _approver(session: Session) -> None:
    """Users: an administrator, an approver "keo" and an officer "dara"."""
    admin = create_first_admin(session, name="admin", password="long enough password")
    who = Actor(admin.name, frozenset({Role.ADMINISTRATOR}))
    add_user(session, actor=who, name="keo", roles=["approver"], password="long enough pw")
    add_user(session, actor=who, name="dara", roles=["officer"], password="long enough pw")
    session.commit()


def test_writeoffs_need_two_people_and_an_approver(session: Session, tmp_path: Path) -> None:
    _world(session)
    _approver(session)
    officer = Actor("dara", frozenset({Role.OFFICER}))
    with pytest.raises(PermissionDenied, match="approver"):
        validate("writeoffs", write_xlsx(tmp_path / "w.xlsx", WRITEOFF, [
            ["W1", "L1", date(2008, 8, 1), "No payment", "dara", "keo"]], "writeoffs"),
            session=session, actor=officer, today=TODAY)
    before = counts(session)
    bad = [["W1", "L404", date(2008, 8, 1), "No payment", "dara", "keo"],  # unknown loan
           ["W2", "L2", date(2007, 12, 1), "No payment", "dara", "keo"],   # before disbursement
           ["W3", "L2", date(2008, 8, 1), "No payment", "keo", "keo"],     # one person
           ["W4", "L2", date(2008, 8, 1), "No payment", "keo", "dara"],    # not an approver
           ["W5", "L2", date(2008, 8, 1), "No payment", "keo", None],      # no approver
           ["W6", "L3", date(2008, 8, 1), "No payment", "dara", "keo"],
           ["W6", "L1", date(2008, 8, 1), "No payment", "dara", "keo"]]    # duplicate ref
    preview, result = _run(session, tmp_path, "writeoffs", WRITEOFF, bad)
    assert {(2, "loan_ref"), (3, "written_off_on"), (4, "approved_by"), (5, "approved_by"),
            (6, "approved_by"), (8, "writeoff_ref")} <= _problems(preview)
    assert not result.committed and counts(session) == before

    good = [["W1", "L1", date(2008, 8, 1), "No payment for six months", "dara",
             "Provincial director"], ["W2", "L3", date(2008, 8, 2), "Family moved", None, "keo"]]
    preview, result = _run(session, tmp_path, "writeoffs", WRITEOFF, good)
    assert preview.valid and result.committed and result.created == 2
    assert _status(session, "L1")[0] == "written_off" and _status(session, "L3")[0] == (
        "written_off")
    pa = core_table("pending_approval")
    decided = set(session.execute(sa.select(pa.c.requested_by, pa.c.decided_by, pa.c.decision)))
    assert decided == {("dara", "Provincial director", "approved"),
                       (ACTOR.name, "keo", "approved")}
    before = counts(session)
    preview, result = _run(session, tmp_path, "writeoffs", WRITEOFF, good)
    assert preview.unchanged == 2 and counts(session) == before


def test_recoveries_only_on_written_off_loans(session: Session, tmp_path: Path) -> None:
    _world(session)
    _run(session, tmp_path, "writeoffs", WRITEOFF,
         [["W1", "L1", date(2008, 8, 1), "No payment", "dara", "keo"]])
    before = counts(session)
    bad = [["R1", "L2", date(2008, 9, 1), 10_000],    # not written off
           ["R2", "L1", date(2008, 7, 1), 10_000],    # before the write-off
           ["R3", "L1", date(2008, 9, 1), 900_000],   # more than is owed
           ["R4", "L404", date(2008, 9, 1), 10_000],  # unknown loan
           ["R5", "L1", date(2008, 9, 1), 1_000],
           ["R5", "L1", date(2008, 9, 2), 1_000]]     # duplicate ref
    preview, result = _run(session, tmp_path, "recoveries", RECOVERY, bad)
    assert {(2, "loan_ref"), (3, "recovered_on"), (4, "amount"), (5, "loan_ref"),
            (7, "recovery_ref")} <= _problems(preview)
    assert not result.committed and counts(session) == before

    good = [["R1", "L1", date(2008, 9, 1), 10_000], ["R2", "L1", date(2008, 10, 1), 5_000]]
    cash = account_for(session, AccountRole.CASH, fund_id=1).id
    assert cash is not None
    cash_before = balances_by_account(session)[cash].amount
    preview, result = _run(session, tmp_path, "recoveries", RECOVERY, good)
    assert preview.valid and result.committed and result.created == 2
    je = core_table("journal_entry")
    assert session.execute(sa.select(sa.func.count()).where(je.c.kind == "recovery")
                           ).scalar_one() == 2
    assert balances_by_account(session)[cash].amount == cash_before + 15_000
    before = counts(session)
    preview, result = _run(session, tmp_path, "recoveries", RECOVERY, good)
    assert preview.unchanged == 2 and counts(session) == before
