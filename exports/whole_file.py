"""Export files appear whole or not at all.

The auditor workbook and the CSV tables stream their rows from the database as they write.
One that fails half-way (the disk full, a read stopped because the app is quitting, a check
that raises) would otherwise leave a file that looks like an export and is not one: a
workbook without its last sheets, a CSV cut mid-table. They write to a hidden file beside the
target and rename it onto the target only once everything is written; a failure removes it,
and an earlier file of the same name is left as it was. (The printables read everything
before they open their file.)
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

__all__ = ["written_whole"]


@contextmanager
def written_whole(path: Path | str) -> Iterator[Path]:
    """A path beside `path` to write the whole file to; renamed onto `path` when the block
    ends, removed if it raises."""
    target = Path(path)
    partial = target.with_name(f".{target.stem}.{secrets.token_hex(4)}.partial{target.suffix}")
    try:
        yield partial
        os.replace(partial, target)
    except BaseException:
        with suppress(FileNotFoundError):
            partial.unlink()
        raise
