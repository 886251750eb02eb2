"""FSF Ledger: imports — spreadsheets in, every problem reported, all or nothing committed.

`validate(kind, path, session=, actor=)` → `ImportPreview` (rows with their status, problems);
`commit(preview, session=, actor=, progress=)` → `ImportResult`. Kinds: `KINDS`; what each
needs: `imports.permissions.PERMISSIONS`.

The names below load on first use (PEP 562): the app reads `imports.permissions` when a page
opens, which must not load the readers (about half a second) before anyone imports a file.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from imports.api import KINDS, columns_of, commit, validate
    from imports.preview import ImportPreview, ImportResult, RowOutcome
    from imports.problems import MAX_FILE_BYTES, Problem

__all__ = ["KINDS", "MAX_FILE_BYTES", "ImportPreview", "ImportResult", "Problem", "RowOutcome",
           "columns_of", "commit", "validate"]

_HOME = {"KINDS": "api", "columns_of": "api", "commit": "api", "validate": "api",
         "ImportPreview": "preview", "ImportResult": "preview", "RowOutcome": "preview",
         "MAX_FILE_BYTES": "problems", "Problem": "problems"}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:  # a submodule (`from imports import cells`) or a real mistake
        raise AttributeError(f"module 'imports' has no attribute {name!r}")
    value = getattr(import_module(f"imports.{home}"), name)
    globals()[name] = value
    return value
