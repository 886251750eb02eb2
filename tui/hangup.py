"""Ending the app when its terminal goes away.

When the terminal closes without a hangup signal reaching the app, Textual's input thread
reads end-of-file from it at once, again and again, and never stops. That happens when
the app was started through a wrapper (`make run`), and when an SSH connection drops. The
app then stays behind at a full core, with its ledger open. A thread waiting in `poll`
sees the hangup and ends the app, without asking about unsaved edits: no one is there to
answer, and every save is its own transaction. It asks `poll` for no events, so it takes
no input from the terminal, and it does no work while it waits.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import threading
from typing import Any

from textual.app import App

__all__ = ["run_in_terminal", "watch_hangup"]

_GONE = select.POLLHUP | select.POLLERR | select.POLLNVAL


def watch_hangup(fd: int, app: App[Any]) -> threading.Thread | None:
    """Exit `app` once terminal `fd` hangs up, from a daemon thread; None (nothing
    watched) when `fd` is not a terminal."""
    if not os.isatty(fd):
        return None
    poller = select.poll()
    poller.register(fd, 0)  # no events asked: a hangup and errors are reported anyway

    def wait() -> None:
        while not any(mask & _GONE for _, mask in poller.poll()):
            pass
        with contextlib.suppress(RuntimeError):  # the app has ended already
            app.call_from_thread(app.exit)

    thread = threading.Thread(target=wait, name="terminal-hangup", daemon=True)
    thread.start()
    return thread


def run_in_terminal(app: App[Any]) -> None:
    """Run `app` until the person quits or the terminal goes away."""
    stdin = sys.__stdin__
    if stdin is not None:
        watch_hangup(stdin.fileno(), app)
    app.run()
