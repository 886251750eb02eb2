"""`tui.lowered`: work run on a lowered thread gives its result or its exception, runs below
the caller's priority on Linux, and leaves the caller's priority as it was."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from tui.lowered import NICE, run_lowered


def _nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_the_result_and_the_exception_come_back() -> None:
    assert run_lowered(lambda: 6 * 7) == 42
    with pytest.raises(ZeroDivisionError):
        run_lowered(lambda: 1 // 0)


@pytest.mark.skipif(sys.platform != "linux", reason="a thread's own priority is Linux's")
def test_the_work_runs_lowered_and_the_caller_is_not() -> None:
    ours = _nice()
    theirs = run_lowered(_nice)
    assert theirs == max(ours, NICE) and theirs > 0
    assert _nice() == ours
    assert run_lowered(lambda: threading.current_thread()) is not threading.current_thread()
