"""Stopping reads that are under way, from another thread.

At a million loans one of the dashboard's figures is a query of 15 seconds or more. A program
that closes while such a read runs would wait for it to end: the terminal app's thread workers
are joined when it exits, so quitting seemed to hang. `Reads` keeps the driver connections its
sessions read on, and `interrupt` stops what each is running (SQLite's interrupt, PostgreSQL's
cancel request): the read raises at once in its own thread, and nothing is written either way.

A command run in the terminal had the same problem with Ctrl+C on SQLite: Python raises the
interrupt only once the statement under way returns, which at a million loans is seconds later
(psycopg cancels by itself). `stopped_on_ctrl_c` has a thread woken by the signal stop the
command's reads at once.
"""

from __future__ import annotations

import signal
import socket
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:  # the terminal app imports this before its first paint, the ORM after it
    from sqlalchemy.orm import Session

__all__ = ["NewestReads", "Reads", "ReadsStopped", "interrupt", "stopped_on_ctrl_c"]


class ReadsStopped(RuntimeError):
    """A watched session began a read after `Reads.stop`."""


def interrupt(dbapi_connection: Any) -> None:
    """Stop the statement a driver connection is running, from any thread; nothing when it
    runs none or is closed already."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        with suppress(sqlite3.ProgrammingError):  # closed meanwhile: nothing runs on it
            dbapi_connection.interrupt()
        return
    import psycopg

    if isinstance(dbapi_connection, psycopg.Connection):
        with suppress(psycopg.Error):  # closed meanwhile, or the server already gone
            dbapi_connection.cancel_safe(timeout=5.0)


class Reads:
    """The driver connections that sessions `watch`ed are reading on now; `stop` interrupts
    every one of them and any watched from then on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: set[Any] = set()
        self.stopped = False

    @contextmanager
    def watch(self, session: Session) -> Iterator[Session]:
        """Keep every connection `session` begins a transaction on until the block ends."""
        held: list[Any] = []

        def began(_session: Session, _transaction: Any, connection: sa.Connection) -> None:
            raw = connection.connection.dbapi_connection
            with self._lock:
                held.append(raw)
                self._open.add(raw)
                stopped = self.stopped
            if stopped:  # begun after `stop`: refused before it reads
                raise ReadsStopped("the reads were stopped (the program is closing)")

        sa.event.listen(session, "after_begin", began)
        try:
            yield session
        finally:
            sa.event.remove(session, "after_begin", began)
            with self._lock:
                self._open.difference_update(held)

    def stop(self) -> None:
        """Interrupt every watched read under way, and refuse those begun later."""
        with self._lock:
            self.stopped = True
            running = list(self._open)
        for raw in running:
            interrupt(raw)



class NewestReads:
    """Loads of which only the newest matters (a search as someone types, the dashboard's
    figures on ctrl+r): beginning one stops the reads of the one before, which would
    otherwise run to their end beside it, each a scan of a million rows."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.current: Reads | None = None

    @contextmanager
    def begin(self) -> Iterator[Reads]:
        """The new load's `Reads`, the older load's stopped. A failure inside the block is
        raised unless this load was itself stopped by a newer one: then the block just
        ends, and the newer load shows what it finds."""
        mine = Reads()
        with self._lock:
            previous, self.current = self.current, mine
        if previous is not None:
            previous.stop()
        try:
            yield mine
        except Exception:
            if not mine.stopped:
                raise


@contextmanager
def stopped_on_ctrl_c(reads: Reads) -> Iterator[Reads]:
    """Within the block, Ctrl+C (SIGINT) stops `reads` at once; the interrupt is raised as
    Python raises it, as soon as the stopped statement returns. Only in the main thread (where
    Python handles signals); elsewhere the block runs unwatched."""
    if threading.current_thread() is not threading.main_thread():
        yield reads
        return
    wake, woken = socket.socketpair()
    wake.setblocking(False)
    earlier = signal.set_wakeup_fd(wake.fileno(), warn_on_full_buffer=False)
    done = threading.Event()

    def watch() -> None:
        # The interpreter writes the number of each signal it receives to `wake`, even
        # while the main thread waits inside the database driver.
        while not done.is_set():
            got = woken.recv(64)
            if not got:  # closed: the block has ended
                return
            if signal.SIGINT in got and not done.is_set():
                reads.stop()

    watcher = threading.Thread(target=watch, name="ctrl-c", daemon=True)
    watcher.start()
    try:
        yield reads
    finally:
        done.set()
        signal.set_wakeup_fd(earlier)
        wake.close()  # the watcher's read returns: nothing more can come
        watcher.join(1.0)
        woken.close()
