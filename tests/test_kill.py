"""A process killed (SIGKILL) in the middle of a long posting run leaves a ledger that still
verifies and holds exactly the use cases it committed — nothing half-written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.verify import verify_ledger
from tests.support.world import build_world

ROOT = Path(__file__).resolve().parents[1]
KILL_AFTER = 25  # committed repayments seen before the kill

POSTER = """
import sys
from datetime import date
from sqlalchemy.orm import Session
from ledger.actor import SYSTEM
from ledger.db import make_engine
from ledger.money import Money
from ledger.services.repayments import record_repayment

engine = make_engine(sys.argv[1])
with Session(engine, expire_on_commit=False) as s:
    for n in range(1, 100_000):
        record_repayment(s, actor=SYSTEM, loan_id=int(sys.argv[2]),
                         amount=Money.parse(100, "KHR"), paid_on=date(2008, 2, 1),
                         today=date(2009, 6, 30), note=f"run {n}")
        print(n, flush=True)  # after the commit: this many use cases are in the ledger
"""


def test_a_killed_posting_run_leaves_exactly_what_it_committed(engine: sa.Engine) -> None:
    with Session(engine, expire_on_commit=False) as s:
        world = build_world(s, families=1)
        loan = world.loan(world.families[0])
        before = verify_ledger(s).entries
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    proc = subprocess.Popen([sys.executable, "-c", POSTER, url, str(loan)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None
    printed = 0
    deadline = time.monotonic() + 120
    while printed < KILL_AFTER and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        printed = int(line)
    os.kill(proc.pid, signal.SIGKILL)  # mid-run: most likely inside the next transaction
    proc.wait()
    printed = max([printed, *(int(x) for x in proc.stdout.read().split())])
    assert printed >= KILL_AFTER, "the posting run never got going"

    with Session(engine) as s:
        report = verify_ledger(s)
        assert report.ok, report.first_failure
        rows = s.execute(sa.text("SELECT count(*) FROM repayment")).scalar_one()
        kinds = s.execute(sa.text(
            "SELECT count(*) FROM journal_entry WHERE kind = 'repayment'")).scalar_one()
    # The last commit may have landed before its line was printed, never the other way.
    assert rows in (printed, printed + 1)
    assert kinds == rows and report.entries == before + rows
