"""A small ledger for the export tests: three families plus two with hostile names, loans,
payments (one reversed), a sensitive fact — made through the services."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from ledger.money import Money
from ledger.services.families import FamilyInput, register_family
from ledger.services.repayments import record_repayment, reverse_repayment
from ledger.services.reschedule import reschedule_loan
from tests.support.world import ACTOR, TODAY, World, build_world

HOSTILE = ('=HYPERLINK("http://x","y")', "@SUM(1)", "+1+1", "-2+3", "\tcmd", "=1+1")
RECALC_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode"
 oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def riel(n: int) -> Money:
    return Money.parse(n, "KHR")


def build_export_world(session: Session) -> World:
    """The ledger every export test reads."""
    world = build_world(session, 3)
    for n, (name, ref) in enumerate(((HOSTILE[0], "=F900"), (HOSTILE[1], "@F901"))):
        fam = register_family(session, actor=ACTOR, today=TODAY, data=FamilyInput(
            ref=ref, head_name=name, head_name_latin=HOSTILE[2 + n], sex="F",
            household_size=4, village_id=world.villages[0], registered_on=date(2007, 6, 1),
            id_number=f"ID-SECRET-{n}", phone="012 345 678",
            sensitive=(("returnee", "came back from Thailand"),) if n == 0 else ()))
        assert fam.id is not None
        world.families.append(fam.id)
    first = world.loan(world.families[0])
    second = world.loan(world.families[1], 150_000, on=date(2008, 3, 1))
    hostile = world.loan(world.families[3], 100_000, on=date(2009, 1, 10), ref="-L900")
    world.loan(world.families[4], 120_000, on=date(2009, 5, 2))
    # A renegotiated loan: PAR30 counts it whatever its days late.
    flood = world.loan(world.families[2], 100_000, on=date(2008, 6, 1))
    record_repayment(session, actor=ACTOR, loan_id=flood, amount=riel(10_800),
                     paid_on=date(2008, 7, 1), today=TODAY)
    reschedule_loan(session, actor=ACTOR, loan_id=flood, on=date(2008, 9, 1), today=TODAY,
                    repayments=12, reason="flood")
    record_repayment(session, actor=ACTOR, loan_id=first, amount=riel(21_100),
                     paid_on=date(2008, 2, 15), today=TODAY, note="=cmd|' /C calc'!A0")
    record_repayment(session, actor=ACTOR, loan_id=first, amount=riel(21_100),
                     paid_on=date(2008, 3, 15), today=TODAY)
    # The last payment on its loan, so the reversal needs no reallocation.
    paid = record_repayment(session, actor=ACTOR, loan_id=second, amount=riel(10_000),
                            paid_on=date(2008, 4, 1), today=TODAY)
    record_repayment(session, actor=ACTOR, loan_id=hostile, amount=riel(10_800),
                     paid_on=date(2009, 2, 10), today=TODAY)
    assert paid.id is not None
    reverse_repayment(session, actor=ACTOR, repayment_id=paid.id, reason="@counted twice",
                      on=date(2008, 4, 20))
    return world


def soffice_or_skip() -> str:
    """The LibreOffice program; a missing one fails under CI and skips elsewhere."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("LibreOffice (soffice) is not installed; .ci/run installs it")
        pytest.skip("LibreOffice (soffice) is not installed")
    return found


def recalculated_csvs(book: Path, workdir: Path) -> dict[str, list[list[str]]]:
    """Open `book` in LibreOffice headless with recalculation forced on load, and return every
    sheet as CSV rows (as the program computed them), keyed by sheet name."""
    import csv

    program = soffice_or_skip()
    profile = workdir / "lo-profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALC_PROFILE)
    out = workdir / "lo-out"
    subprocess.run(
        [program, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to",
         'csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1',
         "--outdir", str(out), str(book)],
        check=True, capture_output=True, timeout=180)
    sheets = {}
    for path in out.glob(f"{book.stem}-*.csv"):
        with path.open(encoding="utf-8", newline="") as handle:
            sheets[path.stem[len(book.stem) + 1:]] = list(csv.reader(handle))
    return sheets
