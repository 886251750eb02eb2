"""FSF Ledger: imports — spreadsheets in, every problem reported, all or nothing committed.

`validate(kind, path, session=, actor=)` → `ImportPreview` (rows with their status, problems);
`commit(preview, session=, actor=, progress=)` → `ImportResult`. Kinds: `KINDS`.
"""

from imports.api import KINDS, columns_of, commit, validate
from imports.preview import ImportPreview, ImportResult, RowOutcome
from imports.problems import MAX_FILE_BYTES, Problem

__all__ = ["KINDS", "MAX_FILE_BYTES", "ImportPreview", "ImportResult", "Problem", "RowOutcome",
           "columns_of", "commit", "validate"]
