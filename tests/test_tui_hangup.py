"""The app ends when its terminal goes away, even when no hangup signal reaches it (started
through `make run`, or `nohup`): it used to stay behind, reading end-of-file at a full core
with its ledger open. The real `fsf` entry point runs in a pseudo-terminal that is then
closed."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time
from pathlib import Path

from sqlalchemy.orm import Session

from ledger.users import create_first_admin
from tests.test_tui_world import small_ledger

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery staple"
APP = """
import signal, sys
signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as under a wrapper: no hangup signal arrives
from tui.cli import main
sys.argv = ["fsf", "--db", sys.argv[1], "--user", "admin"]
main()
"""


def _read_until(fd: int, text: bytes, seconds: float) -> bytes:
    seen, deadline = b"", time.monotonic() + seconds
    while text not in seen and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                seen += os.read(fd, 65536)
            except OSError:  # the child has closed the terminal: it ended
                break
    return seen


def test_the_app_ends_when_its_terminal_goes(sqlite_url: str) -> None:
    with small_ledger(sqlite_url) as (engine, _), Session(engine) as session:
        create_first_admin(session, name="admin", password=PASSWORD)
        session.commit()
    pid, fd = pty.fork()
    if pid == 0:  # the child: the app in the pseudo-terminal
        os.chdir(ROOT)
        os.execve(sys.executable, [sys.executable, "-c", APP, sqlite_url],
                  {**os.environ, "FSF_PASSWORD": PASSWORD, "TERM": "xterm-256color"})
    ended = 0
    try:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        shown = _read_until(fd, b"Ledger", 60)  # the app is up and drawn
        assert b"Ledger" in shown, shown[-2000:]
        os.close(fd)  # the terminal goes away
        deadline = time.monotonic() + 20
        while not ended and time.monotonic() < deadline:
            ended, _ = os.waitpid(pid, os.WNOHANG)
            time.sleep(0.1)
        assert ended == pid, "the app was still running 20 s after its terminal went"
    finally:
        if not ended:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
