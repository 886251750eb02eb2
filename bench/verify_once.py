"""`fsf verify` once on a ledger too big for the suite's warm-up and three runs, beside the
suite's plain read of the journal taken once before and once after it (their mean is the
baseline), with the peak resident memory of the process and of its child (`fsf verify` scans
a large journal in two processes, `ledger.verify_parts`):

    python -m bench.verify_once PATH_OR_URL [--one-pass]

`--one-pass` keeps the whole scan in one process, for a before-and-after in the same minutes.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable

from sqlalchemy.orm import Session

from bench.chain import plain_read
from bench.databases import ledger_url
from ledger import verify_parts
from ledger.db import make_engine
from ledger.verify import verify_ledger


def _seconds(step: Callable[[], object]) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    """Print the three times, the ratio and every check; exit 1 when the ledger fails verify."""
    if "--one-pass" in argv[1:]:
        verify_parts.PARALLEL_FROM = sys.maxsize
    engine = make_engine(ledger_url(argv[0]))
    with Session(engine) as session:
        before = _seconds(lambda: plain_read(session))
        print(f"plain read before: {before:.1f} s", flush=True)
        found = []
        whole = _seconds(lambda: found.append(verify_ledger(session)))
        session.rollback()
        print(f"fsf verify: {whole:.1f} s, ok={found[0].ok}", flush=True)
        after = _seconds(lambda: plain_read(session))
        print(f"plain read after: {after:.1f} s", flush=True)
    print(f"ratio: {whole / ((before + after) / 2):.2f} (target ≤ 2)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak resident memory: {peak:,.0f} MB (the process scanning the second part of the "
          f"journal: {child:,.0f} MB)")
    for check in found[0].checks:
        print(f"  {'OK  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
    return 0 if found[0].ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
