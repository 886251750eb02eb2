"""Stopping reads that are under way, from another thread.

At a million loans one of the dashboard's figures is a query of 15 seconds or more. A program
that closes while such a read runs would wait for it to end: the terminal app's thread workers
are joined when it exits, so quitting seemed to hang. `Reads` keeps the driver connections its
sessions read on, and `interrupt` stops what each is running (SQLite's interrupt, PostgreSQL's
cancel request): the read raises at once in its own thread, and nothing is written either way.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:  # the terminal app imports this before its first paint, the ORM after it
    from sqlalchemy.orm import Session

__all__ = ["Reads", "ReadsStopped", "interrupt"]


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
