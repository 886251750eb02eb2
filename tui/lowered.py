"""Threads that give way to the person at the keyboard.

The dashboard's figures are computed in threads while the officer may already be moving
around the app. On SQLite those threads spend most of their time inside the database library,
outside the interpreter's lock, so on a two-core laptop they hold both cores and the main
thread waits for the kernel to give it one back before each key is answered. A thread made
here runs at a lower scheduling priority (Linux: its own nice value, 10): it gets every cycle
the keys leave, and none they need. Such a thread is made for one piece of work and ends with
it, since an unprivileged process cannot raise a thread's priority again.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["NICE", "lower_this_thread", "lowered_pool", "run_lowered"]

R = TypeVar("R")
NICE = 10  # the kernel gives a nice-10 thread about a tenth of a nice-0 one's share


def lower_this_thread() -> bool:
    """Lower the calling thread's priority (Linux only); whether it was lowered."""
    if sys.platform != "linux":
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), NICE))
    except OSError:  # not allowed here (a sandbox): the work runs as before
        return False
    return True


def lowered_pool(workers: int, name: str) -> ThreadPoolExecutor:
    """A pool whose threads (named after `name`) run lowered; shut it down when its work is
    done."""
    return ThreadPoolExecutor(workers, initializer=lower_this_thread, thread_name_prefix=name)


def run_lowered(fn: Callable[[], R], name: str = "lowered") -> R:
    """`fn()` in a new lowered thread, waited for here: its result, or its exception."""
    with lowered_pool(1, name) as pool:
        return pool.submit(fn).result()
