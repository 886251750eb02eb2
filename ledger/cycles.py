"""Pausing Python's cycle collector around bulk work that makes many objects and no cycles.

Reading a workbook, posting a batch and verifying the journal each make hundreds of thousands
of tuples that stay alive until the work ends; every allocation burst still triggers the
collector, whose full passes walk every live object of the process and find nothing (a tenth
to most of the time of such work went there). Anything cyclic made meanwhile is collected at
the next pass after the collector resumes.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collection_paused"]


@contextmanager
def collection_paused() -> Iterator[None]:
    """Run the block with the cycle collector off, restoring it after, whatever the block
    raises (nested uses too)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
