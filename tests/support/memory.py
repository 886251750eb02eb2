"""Peak memory of a call, for the tests that hold national-scale output to one batch."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable


def peak_bytes(fn: Callable[[], object]) -> int:
    """The most memory `fn` held at once, in bytes (Python allocations)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
