"""One transaction per use case: every service runs inside `use_case(session)`.

Services are decorated with `@transactional`; the outermost use case commits once when it
succeeds and rolls everything back when anything raises, so nothing is half-written and no
lock (SQLite's write lock, PostgreSQL's chain lock) outlives a refused request. Nested use
cases (a service calling another) join the outer one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from sqlalchemy.orm import Session

from ledger.accounts import ACCOUNT_CACHE

__all__ = ["in_use_case", "transactional", "use_case"]

P = ParamSpec("P")
R = TypeVar("R")
_DEPTH = "fsf_use_case_depth"
ROLLBACK_FORGETS = (ACCOUNT_CACHE,)


@contextmanager
def use_case(session: Session) -> Iterator[Session]:
    """Commit once at the outermost level if the block succeeds; otherwise roll back."""
    depth = int(session.info.get(_DEPTH, 0))
    session.info[_DEPTH] = depth + 1
    try:
        yield session
        if depth == 0:
            session.commit()
    except BaseException:
        if depth == 0:
            session.rollback()
            for key in ROLLBACK_FORGETS:  # caches that may hold rows the rollback removed
                session.info.pop(key, None)
        raise
    finally:
        session.info[_DEPTH] = depth


def in_use_case(session: Session) -> bool:
    """True inside a use case, so a caller can tell whether committing is its job."""
    return int(session.info.get(_DEPTH, 0)) > 0


def transactional(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a service (which takes `session` as a keyword or first argument) as one use case."""

    @wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        session: Any = kwargs.get("session", args[0] if args else None)
        if not isinstance(session, Session):
            raise TypeError(f"{fn.__name__} needs a session")
        with use_case(session):
            return fn(*args, **kwargs)

    return run
