"""`ledger.db.interrupt`: a read under way on a watched session is stopped from another thread
(SQLite's interrupt, PostgreSQL's cancel request), and a read begun after the stop is refused,
on both databases."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.db.engine import is_sqlite
from ledger.db.interrupt import NewestReads, Reads, ReadsStopped


def slow_sql(bind: sa.Engine | sa.Connection) -> str:
    """A read that takes minutes unless it is stopped."""
    if is_sqlite(bind):
        return ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                "WHERE x < 1000000000) SELECT COUNT(*) FROM c")
    return "SELECT pg_sleep(300)"


def stop_until_ended(reads: Reads, thread: threading.Thread, within: float = 15.0) -> None:
    """Stop the reads until `thread` ends (a stop that lands before its statement starts
    running stops nothing), or fail after `within` seconds."""
    for _ in range(int(within / 0.1)):
        reads.stop()
        thread.join(0.1)
        if not thread.is_alive():
            return
    raise AssertionError(f"the read was still running {within:.0f} s after it was stopped")


def test_a_running_read_is_stopped_and_later_reads_are_refused(engine: sa.Engine) -> None:
    reads = Reads()
    began = threading.Event()
    raised: list[BaseException] = []

    def read() -> None:
        with Session(engine) as session, reads.watch(session):
            try:
                session.execute(sa.text("SELECT 1"))
                began.set()
                session.execute(sa.text(slow_sql(engine)))
            except sa.exc.DBAPIError as exc:
                raised.append(exc)

    thread = threading.Thread(target=read, daemon=True)  # a failing test leaves no wait
    thread.start()
    assert began.wait(30)
    stop_until_ended(reads, thread)
    assert len(raised) == 1  # the driver's own error: interrupted, or canceled
    assert "interrupt" in str(raised[0]) or "cancel" in str(raised[0])
    with Session(engine) as session, reads.watch(session), pytest.raises(ReadsStopped):
        session.execute(sa.text("SELECT 1"))


def test_reads_that_ended_are_not_kept(engine: sa.Engine) -> None:
    reads = Reads()
    for _ in range(3):
        with Session(engine) as session, reads.watch(session):
            assert session.execute(sa.text("SELECT 1")).scalar_one() == 1
            session.commit()
            assert session.execute(sa.text("SELECT 2")).scalar_one() == 2
    assert not reads._open
    reads.stop()  # nothing to interrupt: no error


def test_a_newer_load_stops_the_one_before_it(engine: sa.Engine) -> None:
    newest = NewestReads()
    began = threading.Event()
    ended: list[str] = []

    def older() -> None:
        with newest.begin() as mine, Session(engine) as session, mine.watch(session):
            session.execute(sa.text("SELECT 1"))
            began.set()
            session.execute(sa.text(slow_sql(engine)))
            ended.append("finished")  # not reached: stopped
        ended.append("left quietly")  # the driver's error ends the block, and is not raised

    thread = threading.Thread(target=older, daemon=True)
    thread.start()
    assert began.wait(30)
    older_reads = newest.current
    assert older_reads is not None
    with newest.begin() as mine:
        assert older_reads.stopped and newest.current is mine and not mine.stopped
        # The stop may land before the slow statement starts running; stop until it ends.
        stop_until_ended(older_reads, thread)
    assert ended == ["left quietly"]
    # The newest load's own failure is raised.
    with pytest.raises(ZeroDivisionError), newest.begin():
        _ = 1 // len(ended[1:])
