"""Ctrl+C on a command whose query runs for long (a report of a million loans) stops the query
at once and ends the command as an interrupted one (exit 130), instead of waiting for the
statement to return; through the real `fsf` entry point in its own process. PostgreSQL's
driver cancels on Ctrl+C by itself; SQLite's waited for the statement (7.5 s at 1M)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from ledger.users import create_first_admin
from tests.test_tui_world import small_ledger

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery staple"
# `fsf report portfolio` whose report is a read of minutes unless it is stopped.
SLOW_REPORT = """
import signal, sys
import sqlalchemy as sa
from ledger import reports
from tests.test_read_interrupt import slow_sql

signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal

def slow(session, **_):
    print("reading", flush=True)
    session.execute(sa.text(slow_sql(session.connection())))
    sys.exit("the read was not stopped")

reports.portfolio_quality = slow
from tui.cli import main
sys.argv = ["fsf", "--db", sys.argv[1], "--user", "admin", "report", "portfolio"]
main()
"""


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest) -> str:
    url = str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url"))
    with small_ledger(url) as (engine, _), Session(engine) as session:
        create_first_admin(session, name="admin", password=PASSWORD)
        session.commit()
    return url


def test_ctrl_c_stops_the_query_under_way(ledger_url: str) -> None:
    child = subprocess.Popen([sys.executable, "-c", SLOW_REPORT, ledger_url], cwd=ROOT,
                             env={**os.environ, "FSF_PASSWORD": PASSWORD},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "reading"
        time.sleep(0.5)  # inside the query by now
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        code = child.wait(timeout=15)
        took = time.monotonic() - sent
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    stderr = child.stderr.read() if child.stderr else ""
    assert code == 130, stderr[-2000:]
    assert "Traceback" not in stderr and "not stopped" not in stderr
    assert took < 10
