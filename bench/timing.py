"""Medians of repeated runs, and the rows the results table is made of."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Row", "median_seconds", "peak_mb", "percentile", "timed"]


@dataclass(frozen=True, slots=True)
class Row:
    """One benchmark line: the operation's time, its baseline's, and its target in words.

    `met` is None when the target is not a time or ratio this run can judge; `shown`, when
    set, is what the time column shows instead (a peak memory, for instance)."""

    group: str
    name: str
    seconds: float
    baseline: str
    baseline_seconds: float | None
    target: str
    met: bool | None
    note: str = ""
    shown: str = ""

    @property
    def ratio(self) -> float | None:
        """Time over the baseline's time (lower is better)."""
        if self.baseline_seconds is None or self.baseline_seconds <= 0:
            return None
        return self.seconds / self.baseline_seconds


def timed(fn: Callable[[], Any]) -> float:
    """Seconds one call takes."""
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def median_seconds(fn: Callable[[], Any], runs: int) -> float:
    """The median of `runs` timed calls (one untimed warm-up call first)."""
    fn()
    return statistics.median(timed(fn) for _ in range(max(1, runs)))


def interleaved_medians(fns: Sequence[Callable[[], Any]], runs: int) -> list[float]:
    """The median of `runs` timed calls of each of `fns`, taken in turns (one untimed warm-up
    of each first): a machine whose speed drifts during the runs drifts for all of them alike,
    so their ratios hold where back-to-back medians would not."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(max(1, runs)):
        for fn, taken in zip(fns, times, strict=True):
            taken.append(timed(fn))
    return [statistics.median(taken) for taken in times]


def percentile(values: list[float], pct: float) -> float:
    """The `pct` percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def peak_mb() -> float:
    """This process's own peak resident memory in MB. Linux's `ru_maxrss` of a process
    started by `subprocess` counts the peak of the process that started it (the mappings it
    had when the child began), so a suite grown to 311 MB reported its export children at 311
    MB when each peaked at 95: the kernel's high-water mark of this process's own memory
    (`VmHWM`) is read instead where there is one."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
