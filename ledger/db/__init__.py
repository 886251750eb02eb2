"""Storage of the ledger: engines, tables, packaged migrations.

    engine = make_engine(resolve_url(None))   # the default ledger, or $FSF_DATABASE_URL
    upgrade(engine)                            # create or bring the schema up to date
    with Session(engine) as session: ...       # services commit once per use case

Importing this package opens no file and creates no engine. The table classes
(`ledger.db.tables`, SQLModel and pydantic with them) load on first use, so that opening the
terminal app does not pay for them before its first screen.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ledger.db.engine import (
    DATABASE_URL_ENV,
    default_ledger_path,
    is_busy,
    is_postgresql,
    is_sqlite,
    make_engine,
    read_only,
    resolve_url,
)
from ledger.db.migrate import upgrade
from ledger.db.schema_version import current_revision, head_revision

if TYPE_CHECKING:
    from ledger.db import tables

__all__ = [
    "DATABASE_URL_ENV",
    "current_revision",
    "default_ledger_path",
    "head_revision",
    "is_busy",
    "is_postgresql",
    "is_sqlite",
    "make_engine",
    "read_only",
    "resolve_url",
    "tables",
    "upgrade",
]


def __getattr__(name: str) -> Any:
    # `ledger.db.tables` on first use (importing it registers every table on the metadata).
    if name == "tables":
        return importlib.import_module("ledger.db.tables")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
