"""Read-only lookups of an import's checks, run beside the main thread on connections of their
own while the main thread goes on with the session's.

The database drivers let go of the interpreter while a query runs, so on two cores a lookup
overlaps the Python work and the other lookups. Only outside a use case: a bundle checks its
files inside one transaction, after the rows of its earlier files are written but not yet
committed, which no other connection can see. Elsewhere the preview's transaction only reads
and is ended when the preview is made. A lookup on another connection may see a payment
committed since the session's first read, as a preview made a moment later would; a preview
is advice either way, since committing checks every payment again under the write lock.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ledger.db.engine import read_only, seen_by_every_connection
from ledger.services.unit import in_use_case

__all__ = ["Beside"]

R = TypeVar("R")


def _apart(session: Session) -> sa.Engine | None:
    """The engine lookups may open connections of their own on, or None."""
    bind = session.get_bind()
    if not isinstance(bind, sa.Engine) or in_use_case(session):
        return None
    return bind if seen_by_every_connection(bind) else None


class Beside:
    """Lookups `fn(session, *args)` started now and taken later (`submit` returns what to
    call for the result); on the session itself, at once, where they may not run apart."""

    def __init__(self, session: Session) -> None:
        self._session = session
        engine = _apart(session)
        self._engine = None if engine is None else read_only(engine)
        self._pool = ThreadPoolExecutor(2) if engine is not None else None

    def __enter__(self) -> Beside:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, fn: Callable[..., R], *args: Any) -> Callable[[], R]:
        """Start `fn(session, *args)`; the returned call gives its result (or raises)."""
        if self._pool is None:
            result = fn(self._session, *args)
            return lambda: result
        return self._pool.submit(self._run, fn, args).result

    def _run(self, fn: Callable[..., R], args: tuple[Any, ...]) -> R:
        assert self._engine is not None
        with Session(self._engine) as own:
            try:
                return fn(own, *args)
            finally:
                own.rollback()
