"""What a person is shown when something fails, and where the details are kept for support.

A service's refusal (a `ServiceError` or `PermissionDenied`) is expected: its own title and
message are shown and nothing is logged. So is a busy ledger: another program (an import of a
whole month, a backup, another officer's app) held SQLite's write lock for longer than this one
waits, and nothing was saved. Anything else is a fault in the program: its traceback is
appended to an error log (beside a SQLite ledger, else in the user's log folder) and the dialog
says where, so a person can send that file to whoever supports them.
"""

from __future__ import annotations

import traceback
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from platformdirs import user_log_path
from textual.app import ScreenError

from ledger.actor import PermissionDenied
from ledger.db import is_busy
from ledger.services.errors import ServiceError
from tui.dialogs.error import ErrorDialog

__all__ = ["BUSY_MESSAGE", "LOG_NAME", "failure_dialog", "failure_log_path", "is_expected",
           "is_fatal", "write_failure_log"]

LOG_NAME = "fsf-errors.log"
APP_NAME = "fsf-ledger"
# Failures after which the app cannot be trusted to draw a dialog: Textual's own way of ending
# (a traceback on exit) is kept for these.
_FATAL: tuple[type[BaseException], ...] = (MemoryError, SystemError, ScreenError)


BUSY_MESSAGE = ("Another program is writing to the ledger (an import, a backup, or someone "
                "else's app) and kept it longer than this app waits. Nothing was saved: try "
                "again in a moment.")


def is_expected(error: BaseException) -> bool:
    """Whether the failure is one a person can act on (a refusal, a busy ledger), shown in its
    own words, rather than a fault whose traceback support needs."""
    return isinstance(error, ServiceError | PermissionDenied) or is_busy(error)


def is_fatal(error: BaseException) -> bool:
    """Whether the app should end rather than show a dialog and carry on."""
    return isinstance(error, _FATAL) or not isinstance(error, Exception)


def failure_log_path(url: sa.URL) -> Path:
    """Where tracebacks go: `fsf-errors.log` beside a SQLite ledger file, otherwise in the
    user's log folder (a PostgreSQL ledger, an in-memory one)."""
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(str(url.database)).resolve().parent / LOG_NAME
    return user_log_path(APP_NAME, appauthor=False) / LOG_NAME


def write_failure_log(path: Path, error: BaseException, *, where: str = "") -> Path | None:
    """Append the error's traceback to `path`; the path written, or None when it cannot be
    (a read-only folder must not turn one failure into two)."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    text = "".join(traceback.format_exception(error))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- {stamp} {where}\n{text}\n")
    except OSError:
        return None
    return path


def failure_dialog(error: BaseException, log: Path | None) -> ErrorDialog:
    """The dialog for a failure: a refusal in its own words, a fault with where its details
    were written."""
    if isinstance(error, ServiceError):
        return ErrorDialog(error.title, error.message)
    if isinstance(error, PermissionDenied):
        return ErrorDialog("Not allowed", str(error))
    if is_busy(error):
        return ErrorDialog("The ledger is busy", BUSY_MESSAGE)
    kept = (f"The details were written to {log} for support." if log is not None
            else "The details could not be written to the error log.")
    return ErrorDialog("Something went wrong",
                       f"{type(error).__name__}: {error}\n\nEvery change to the ledger is one "
                       "transaction, so nothing is half-saved: look at the page before trying "
                       f"again. The app carries on.\n{kept}")
